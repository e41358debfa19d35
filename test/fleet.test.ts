/**
 * The fleet end to end on loopback: real `cistern controller` and `cistern agent` processes
 * (the built CLI), each with its own HOME and state in a temp folder, driven and observed only
 * through the CLI (`cistern token|status|server|events --json`), the processes' output and the
 * files they write. The controller runs with a 1 s heartbeat interval and a 3 s TTL, so a
 * healthy server turns suspect after 2.5 s of silence and unreachable after 3 s.
 *
 * Covers registration, every refusal (CA mismatch, expired/used-up/revoked token, revoked
 * agent), restarts of either side, failure detection (SIGKILL, SIGSTOP/SIGCONT) and the
 * inventory write-back. Every process is killed and every folder removed after each test, on
 * failure too.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ServerView } from '../src/controller/core.js';
import type { FleetEvent } from '../src/controller/events.js';
import { RICHLY_COMMENTED } from '../src/testing/fixtures.js';
import { assertBuilt } from './support/cistern.js';
import { FleetLab, HEARTBEAT_MS, TTL_MS, expectRefused, healthSteps, sleep, waitUntil, type Agent, type Controller } from './support/fleet.js';

const count = (events: readonly FleetEvent[], kind: string, server?: string) =>
  events.filter((e) => e.kind === kind && (server === undefined || e.server === server)).length;

/** The mode bits of a file, as 0o600. */
const mode = (path: string) => statSync(path).mode & 0o777;

/** Starts an agent with a new join token and waits until it is registered, connected and healthy. */
async function healthyAgent(lab: FleetLab, controller: Controller, name: string): Promise<Agent & { view: ServerView }> {
  const token = await lab.createToken(controller, { uses: 1 });
  const agent = lab.startAgent({ token, name });
  expect(await lab.waitRegistered(agent)).toBe(name);
  const view = await lab.waitForServer(controller, name, (s) => s.health === 'healthy' && s.connected, { timeoutMs: 8_000 });
  return { ...agent, view };
}

beforeAll(() => assertBuilt());

describe('fleet: registration', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  it('an agent with --controller, --token and --ca-hash registers, reports facts and turns healthy', { timeout: 20_000 }, async () => {
    const controller = await lab.startController();
    expect(controller.adminToken).toMatch(/^csa_[0-9a-f]{8}\./);
    const clientConfig = join(controller.home, '.config', 'cistern', 'config.json');
    expect(mode(clientConfig)).toBe(0o600);

    const token = await lab.createToken(controller, { uses: 1 });
    expect(token.command).toBe(`cistern agent --controller ${controller.url} --token ${token.token} --ca-hash ${controller.fingerprint}`);
    const started = Date.now();
    const agent = lab.startAgent({ token, name: 'alpha' });
    expect(await lab.waitRegistered(agent)).toBe('alpha');

    const view = await lab.waitForServer(controller, 'alpha', (s) => s.health === 'healthy' && s.connected, { timeoutMs: 8_000 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(view.hostname).toBe(hostname());
    expect(view.load).not.toBeNull();

    const detail = await lab.serverShow(controller, 'alpha');
    expect(detail.facts).toMatchObject({ hostname: hostname(), cpu: expect.any(Object), memory: expect.any(Object) });
    expect(detail.server.profile).toMatch(/\S/);
    expect(detail.server.profileReason).toMatch(new RegExp(`^${detail.server.profile}: \\S`));
    expect(detail.ageRecipient).toMatch(/^age1/);

    // Each process kept to its own folders: the agent's HOME is untouched (state is in
    // --state-dir), the controller's holds only the CLI config it wrote on first start.
    expect(readdirSync(agent.home)).toEqual([]);
    expect(readdirSync(controller.home, { recursive: true }).sort()).toEqual(['.config', join('.config', 'cistern'), join('.config', 'cistern', 'config.json')]);

    // The agent's secrets: 0600 files in a 0700 folder.
    expect(mode(agent.stateDir)).toBe(0o700);
    expect(mode(join(agent.stateDir, 'credential.json'))).toBe(0o600);
    expect(mode(join(agent.stateDir, 'age.key'))).toBe(0o600);
    const credential = JSON.parse(readFileSync(join(agent.stateDir, 'credential.json'), 'utf8')) as { token: string; caFingerprint: string; controllerUrl: string };
    expect(credential).toMatchObject({ caFingerprint: controller.fingerprint, controllerUrl: controller.url });

    const events = await lab.waitForEvents(controller, 'registered, connected and health events of alpha', (all) =>
      count(all, 'registered', 'alpha') === 1 && count(all, 'connected', 'alpha') >= 1 && healthSteps(all, 'alpha').length >= 1 && all);
    expect(healthSteps(events, 'alpha')[0]).toMatchObject({ from: 'unknown', to: 'healthy' });
    expect(events.find((e) => e.kind === 'registered')?.data).toMatchObject({ token: token.id, hostname: hostname() });
    // --limit keeps the latest events, not the first ones.
    expect(await lab.json<FleetEvent[]>(controller, ['events', '--limit', '2'])).toEqual(events.slice(-2));

    // Nothing secret is logged, by either side.
    const secrets = [token.token.split('.')[1], credential.token.split('.')[1], controller.adminToken?.split('.')[1]];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(controller.daemon.stderr).not.toContain(secret);
      expect(agent.daemon.stderr).not.toContain(secret);
      expect(agent.daemon.stdout).not.toContain(secret);
    }
  });
});

describe('fleet: refusals', () => {
  let lab: FleetLab;
  let controller: Controller;
  beforeAll(async () => {
    lab = new FleetLab();
    controller = await lab.startController();
  }, 20_000);
  afterAll(() => lab.cleanup());
  afterEach(async () => {
    // Only the controller is shared: agents of a test never outlive it, and it never stops.
    await lab.killAgents();
    expect(controller.daemon.running, controller.daemon.describe()).toBe(true);
  });

  it('a wrong --ca-hash: E_CA_MISMATCH naming both fingerprints, and nothing reaches the controller', { timeout: 20_000 }, async () => {
    const token = await lab.createToken(controller, { uses: 1 });
    const wrong = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const agent = lab.startAgent({ token, caHash: wrong, name: 'mitm' });
    const stderr = await expectRefused(agent, 'E_CA_MISMATCH');
    expect(stderr).toContain(controller.fingerprint);
    expect(stderr).toContain(wrong);
    // Refused before anything was sent: no age key made either.
    expect(() => statSync(join(agent.stateDir, 'age.key'))).toThrow();

    // Nothing happened on the controller since the token was made: no registration, no refusal.
    const events = await lab.events(controller);
    const made = events.find((e) => e.kind === 'token-created' && e.data.token === token.id);
    expect(made).toBeDefined();
    expect(events.filter((e) => e.id > (made?.id ?? 0)).map((e) => `${e.kind} ${e.server ?? ''}`)).toEqual([]);
  });

  it('an expired join token: E_TOKEN_EXPIRED', { timeout: 20_000 }, async () => {
    const token = await lab.createToken(controller, { uses: 1, ttl: '1s' });
    await sleep(1_500);
    const agent = lab.startAgent({ token, name: 'late' });
    const stderr = await expectRefused(agent, 'E_TOKEN_EXPIRED');
    expect(stderr).toContain(`join token ${token.id} expired`);
    await lab.waitForEvents(controller, 'the refusal event', (all) => all.some((e) => e.kind === 'registration-refused' && e.data.reason === 'expired'));
  });

  it('a used-up join token: the second agent gets E_TOKEN_USED_UP', { timeout: 20_000 }, async () => {
    const token = await lab.createToken(controller, { uses: 1 });
    const first = lab.startAgent({ token, name: 'first' });
    expect(await lab.waitRegistered(first)).toBe('first');
    const second = lab.startAgent({ token, name: 'second' });
    const stderr = await expectRefused(second, 'E_TOKEN_USED_UP');
    expect(stderr).toContain(`join token ${token.id} has been used up`);
    expect((await lab.status(controller)).map((s) => s.name)).not.toContain('second');
    expect(await first.daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it('a revoked join token: E_TOKEN_REVOKED', { timeout: 20_000 }, async () => {
    const token = await lab.createToken(controller, { uses: 5 });
    const revoked = await lab.json<{ id: string; revoked: boolean }>(controller, ['token', 'revoke', token.id]);
    expect(revoked).toEqual({ id: token.id, revoked: true });
    const agent = lab.startAgent({ token, name: 'revoked-token' });
    const stderr = await expectRefused(agent, 'E_TOKEN_REVOKED');
    expect(stderr).toContain(`join token ${token.id} was revoked`);
  });

  it('a revoked agent: the running agent stops with E_AGENT_REVOKED, and so does a restart of it', { timeout: 20_000 }, async () => {
    const agent = await healthyAgent(lab, controller, 'doomed');
    expect(await lab.json(controller, ['server', 'revoke', 'doomed'])).toEqual({ name: 'doomed', revoked: true });
    const exit = await agent.daemon.waitForExit(10_000);
    expect(exit, agent.daemon.describe()).toEqual({ code: 1, signal: null });
    expect(agent.daemon.stderr).toMatch(/error\[E_AGENT_REVOKED\]: agent doomed was revoked/);
    expect((await lab.status(controller)).map((s) => s.name)).not.toContain('doomed');
    expect(count(await lab.events(controller), 'agent-revoked', 'doomed')).toBe(1);

    // Its saved credential is refused for good, not retried.
    const again = lab.startAgent({ stateDir: agent.stateDir, home: agent.home });
    expect(await again.daemon.waitForExit(10_000), again.daemon.describe()).toEqual({ code: 1, signal: null });
    expect(again.daemon.stderr).toContain('error[E_AGENT_REVOKED]');
  });
});

describe('fleet: restarts', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  it('a restarted agent reuses its credential: same name, no new registration', { timeout: 20_000 }, async () => {
    const controller = await lab.startController();
    const agent = await healthyAgent(lab, controller, 'alpha');
    const before = agent.view;
    expect(await agent.daemon.stop()).toEqual({ code: 0, signal: null });
    expect(agent.daemon.stdout).toContain('agent stopped');

    // Only --state-dir: no controller, token or CA hash.
    const restarted = lab.startAgent({ stateDir: agent.stateDir, home: agent.home });
    await restarted.daemon.waitForOutput(new RegExp(`^agent ${before.agentId} starting$`, 'm'));
    const events = await lab.waitForEvents(controller, 'alpha connected a second time', (all) => count(all, 'connected', 'alpha') === 2 && all);
    expect(count(events, 'registered')).toBe(1);
    const servers = await lab.waitForStatus(controller, 'alpha healthy and connected', (all) => all.some((s) => s.health === 'healthy' && s.connected) && all);
    expect(servers.map((s) => [s.name, s.agentId])).toEqual([['alpha', before.agentId]]);
  });

  it('a restarted controller: the agent reconnects by itself and health is re-derived from fresh heartbeats', { timeout: 25_000 }, async () => {
    const first = await lab.startController();
    const agent = await healthyAgent(lab, first, 'alpha');

    const controller = await lab.restartController(first);
    expect(controller.url).toBe(first.url);
    expect(controller.fingerprint).toBe(first.fingerprint);
    expect(controller.adminToken).toBeUndefined();
    // The registration survived; health is not the stale pre-restart 'healthy' but re-derived.
    const right = (await lab.status(controller)).find((s) => s.name === 'alpha');
    expect(right?.health).toMatch(/^(unknown|healthy)$/);

    const servers = await lab.waitForStatus(controller, 'alpha healthy and connected again', (all) => all.some((s) => s.health === 'healthy' && s.connected) && all, { timeoutMs: 15_000 });
    expect(servers.map((s) => s.name)).toEqual(['alpha']);
    expect(agent.daemon.running, agent.daemon.describe()).toBe(true);
    expect(agent.daemon.stderr).toContain('reconnecting to the controller');

    const events = await lab.events(controller);
    const restartedAt = events.filter((e) => e.kind === 'controller-started')[1];
    expect(restartedAt, 'a second controller-started event').toBeDefined();
    const since = events.filter((e) => e.id > (restartedAt?.id ?? 0));
    expect(count(events, 'registered')).toBe(1);
    expect(count(since, 'connected', 'alpha')).toBe(1);
    // The first transition after the restart starts from 'unknown' (a restart forgets health).
    expect(healthSteps(since, 'alpha')[0]).toMatchObject({ from: 'unknown', to: 'healthy' });
  });
});

describe('fleet: failure detection', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  it(`a killed agent is unreachable within ttl + one interval (${TTL_MS} + ${HEARTBEAT_MS} ms)`, { timeout: 20_000 }, async () => {
    const controller = await lab.startController();
    const agent = await healthyAgent(lab, controller, 'alpha');

    const killedAt = Date.now();
    agent.daemon.signal('SIGKILL');
    const events = await lab.waitForEvents(controller, 'alpha unreachable', (all) =>
      healthSteps(all, 'alpha').some((s) => s.to === 'unreachable' && s.at >= killedAt) && all, { timeoutMs: TTL_MS + HEARTBEAT_MS + 6_000 });
    const steps = healthSteps(events, 'alpha').filter((s) => s.at >= killedAt);
    const elapsed = (steps.find((s) => s.to === 'unreachable')?.at ?? Infinity) - killedAt;
    console.log(`SIGKILL → unreachable: ${elapsed} ms (ttl ${TTL_MS} ms, interval ${HEARTBEAT_MS} ms)`);
    // The heartbeat TTL decides, not the closed socket: about ttl minus the time since the last
    // heartbeat (at most one interval, plus jitter) after the kill, and at most ttl plus one
    // interval, with 2 s of slack for CI.
    expect(elapsed).toBeGreaterThanOrEqual(TTL_MS - 2 * HEARTBEAT_MS);
    expect(elapsed).toBeLessThanOrEqual(TTL_MS + HEARTBEAT_MS + 2_000);

    expect(steps.map((s) => `${s.from}→${s.to}`).slice(0, 2)).toEqual(['healthy→suspect', 'suspect→unreachable']);
    const view = await lab.waitForServer(controller, 'alpha', (s) => !s.connected);
    expect(view.health).toBe('unreachable');
  });

  it('a frozen agent (SIGSTOP) goes suspect and unreachable, and healthy again on SIGCONT', { timeout: 20_000 }, async () => {
    const controller = await lab.startController();
    const agent = await healthyAgent(lab, controller, 'frozen');

    const stoppedAt = Date.now();
    agent.daemon.signal('SIGSTOP');
    await lab.waitForEvents(controller, 'frozen unreachable', (all) =>
      healthSteps(all, 'frozen').some((s) => s.to === 'unreachable' && s.at >= stoppedAt), { timeoutMs: TTL_MS + HEARTBEAT_MS + 6_000 });
    const frozenView = (await lab.status(controller)).find((s) => s.name === 'frozen');
    expect(frozenView?.health).toBe('unreachable');

    const continuedAt = Date.now();
    agent.daemon.signal('SIGCONT');
    const events = await lab.waitForEvents(controller, 'frozen healthy again', (all) =>
      healthSteps(all, 'frozen').some((s) => s.to === 'healthy' && s.at >= continuedAt) && all, { timeoutMs: 8_000 });
    const steps = healthSteps(events, 'frozen').filter((s) => s.at >= stoppedAt).map((s) => `${s.from}→${s.to}`);
    expect(steps).toEqual(['healthy→suspect', 'suspect→unreachable', 'unreachable→healthy']);
    // The same connection, kept through the freeze.
    expect(count(events, 'connected', 'frozen')).toBe(1);
    await lab.waitForServer(controller, 'frozen', (s) => s.health === 'healthy' && s.connected);
    expect(agent.daemon.running).toBe(true);
  });
});

describe('fleet: inventory write-back', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  /** The inventory as parsed YAML. */
  const read = (file: string) => parse(readFileSync(file, 'utf8')) as { servers: Record<string, Record<string, any>> };

  /** The index of the first line of `original` not found, in order, in `edited`; -1 when all are. */
  function firstLostLine(original: string, edited: string): number {
    const lines = edited.split('\n');
    let at = 0;
    const wanted = original.split('\n');
    for (let i = 0; i < wanted.length; i++) {
      while (at < lines.length && lines[at] !== wanted[i]) at++;
      if (at === lines.length) return i;
      at++;
    }
    return -1;
  }

  it('adds new agents under unique names with a status block, keeps every comment, and takes live hand edits', { timeout: 30_000 }, async () => {
    const file = join(lab.dir('inventory'), 'inventory.yaml');
    writeFileSync(file, RICHLY_COMMENTED);
    const controller = await lab.startController({ inventory: file });

    // Two agents that both ask for the name "newbox": the second gets a unique one.
    const token = await lab.createToken(controller, { uses: 3 });
    const a = lab.startAgent({ token, name: 'newbox' });
    expect(await lab.waitRegistered(a)).toBe('newbox');
    const b = lab.startAgent({ token, name: 'newbox' });
    expect(await lab.waitRegistered(b)).toBe('newbox-2');

    const written = await waitUntil('both new servers healthy in the inventory', async () => {
      const data = read(file);
      return data.servers.newbox?.status?.health === 'healthy' && data.servers['newbox-2']?.status?.health === 'healthy' && data;
    }, { describe: () => `${readFileSync(file, 'utf8')}\n${lab.describe()}` });
    expect(written.servers.newbox).toMatchObject({ hostname: hostname() });
    // The hostname is taken by newbox, so newbox-2 gets its name as hostname.
    expect(written.servers['newbox-2']).toMatchObject({ hostname: 'newbox-2' });
    for (const name of ['newbox', 'newbox-2']) {
      expect(written.servers[name]?.status).toMatchObject({
        health: 'healthy', last_seen: expect.any(String),
        facts: { cores: expect.any(Number), architecture: expect.any(String), memory_gb: expect.any(Number), profile: expect.any(String), profile_reason: expect.any(String) },
      });
    }
    // Byte for byte: every line of the original is still there, in order, and the only change
    // in content is the two new servers.
    let text = readFileSync(file, 'utf8');
    expect(firstLostLine(RICHLY_COMMENTED, text), text).toBe(-1);
    const { newbox: _a, 'newbox-2': _b, ...rest } = written.servers;
    expect({ ...written, servers: rest }).toEqual(parse(RICHLY_COMMENTED));

    // A health transition is written back: newbox-2 dies.
    b.daemon.signal('SIGKILL');
    await waitUntil('newbox-2 unreachable in the inventory', async () => read(file).servers['newbox-2']?.status?.health === 'unreachable',
      { timeoutMs: TTL_MS + HEARTBEAT_MS + 6_000, describe: () => readFileSync(file, 'utf8') });
    text = readFileSync(file, 'utf8');
    expect(firstLostLine(RICHLY_COMMENTED, text), text).toBe(-1);

    // An invalid hand edit (an unknown role) is refused with its line, and the controller keeps
    // running on the last good version.
    const bad = text.replace('role: secondary # trailing', 'role: tertiary # trailing');
    expect(bad).not.toBe(text);
    const badLine = bad.split('\n').findIndex((l) => l.includes('role: tertiary')) + 1;
    writeFileSync(file, bad);
    const refused = await waitUntil('the controller to refuse the edit', async () =>
      controller.daemon.logs().find((l) => l.level === 'error' && l.msg.includes('inventory edit refused')), { describe: () => controller.daemon.describe() });
    expect(refused.msg).toContain(`${file}:${badLine}:`);
    expect(refused.msg).toContain('servers.rivers.role');

    // A new agent while the file is invalid: registered, but the controller does not write its
    // change into the invalid file.
    const c = lab.startAgent({ token, name: 'latecomer' });
    expect(await lab.waitRegistered(c)).toBe('latecomer');
    await lab.waitForServer(controller, 'latecomer', (s) => s.health === 'healthy');
    await waitUntil('the controller to hold back the write', async () => controller.daemon.logs().some((l) =>
      l.level === 'error' && l.msg.startsWith('could not write server status') && (l.servers as string[]).includes('latecomer')), { describe: () => controller.daemon.describe() });
    expect(controller.daemon.running, controller.daemon.describe()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(bad);
    expect((await lab.status(controller)).map((s) => s.name)).toEqual(['eden', 'latecomer', 'newbox', 'newbox-2', 'rivers']);

    // A valid hand edit is applied live: the role fixed, a tag and a service added.
    const good = bad
      .replace('role: tertiary # trailing', 'role: secondary # trailing')
      .replace('location: attic\n', 'location: attic\n    tags: [attic-box]   # added by hand\n')
      .replace('    - sonarr\n', '    - sonarr\n    - radarr                    # added by hand\n');
    for (const edit of ['role: secondary # trailing', 'tags: [attic-box]', '- radarr ']) expect(good).toContain(edit);
    const reloads = () => controller.daemon.logs().filter((l) => l.msg === 'inventory reloaded').length;
    const reloadsBefore = reloads();
    writeFileSync(file, good);
    await waitUntil('the controller to reload the inventory', async () => reloads() > reloadsBefore, { describe: () => controller.daemon.describe() });
    const eden = await lab.waitForServer(controller, 'eden', (s) => s.services.includes('radarr'));
    expect(eden.services).toEqual(['jellyfin', 'sonarr', 'radarr']);

    // What was held back while the file was invalid is written now, and the hand edit is kept.
    const final = await waitUntil('latecomer in the inventory', async () => read(file).servers.latecomer?.status?.health === 'healthy' && readFileSync(file, 'utf8'),
      { describe: () => `${readFileSync(file, 'utf8')}\n${controller.daemon.describe()}` });
    expect(firstLostLine(good, final), final).toBe(-1);
    expect(read(file).servers.rivers).toMatchObject({ role: 'secondary', tags: ['attic-box'] });
    expect(controller.daemon.running).toBe(true);
  });
});

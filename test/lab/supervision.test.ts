/**
 * Service supervision on a real agent in the lab: the controller's admin API (through `cistern
 * server set-services`) tells the agent on h2 what to supervise with the process driver, and the
 * agent probes, restarts and gives up as docs/supervision.md says:
 *
 * - the real transmission-daemon, SIGKILLed, is found dead, restarted and healthy again;
 * - the Jellyfin stand-in told to hang (it accepts connections and never answers) times out,
 *   is restarted, and is healthy once it answers again;
 * - a service that exits as soon as it starts is restarted with a growing backoff, then `failed`
 *   after its budget, and not restarted after that.
 *
 * Every step shows in the controller's event log under h2 and in h2's heartbeat. Short timings
 * (probe every 500 ms, timeout 300 ms, 2 failures, budget 3 in a minute) keep it quick. Waits
 * read the agent's own log (the supervisor logs each event as a JSON line), which costs nothing;
 * the controller's event log and heartbeat view are checked once per scenario, since every CLI
 * call starts a Node process.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerView } from '../../src/controller/core.js';
import type { FleetEvent } from '../../src/controller/events.js';
import { CATALOG } from '../../src/services/catalog.js';
import type { ServiceDefinition } from '../../src/services/schema.js';
import type { Supervision } from '../../src/supervisor/index.js';
import { waitUntil } from '../support/fleet.js';
import { createLab, MEDIA_APPS, TRANSMISSION_RPC_PORT, type Lab, type LabHost } from './index.js';
import { namespacePids } from './network.js';
import { mediaControlFile, TRANSMISSION, transmissionSettings } from './services.js';
import type { StandinConfig } from './standins/media.js';

const FAST: Supervision = {
  interval_ms: 500, timeout_ms: 300, failure_threshold: 2, success_threshold: 1,
  backoff_initial_ms: 500, backoff_factor: 2, backoff_max_ms: 2_000, restart_budget: { restarts: 3, window_ms: 60_000 },
};

/**
 * A catalog definition, not single-writer: a single-writer service runs only under a lease from
 * the controller, which is not what these scenarios are about.
 */
const catalog = (name: string): ServiceDefinition => {
  const found = CATALOG.find((s) => s.name === name);
  if (!found) throw new Error(`no ${name} in the catalog`);
  return { ...found, single_writer: false };
};

interface Entry { name: string; definition: ServiceDefinition; run: boolean; driver: 'process'; process: { argv: string[] }; supervision: Supervision }

describe('service supervision on a lab agent: probes, restarts, restart budget', () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  /** Everything h2 supervises: each set-services call sends the whole list. */
  const desired = new Map<string, Entry>();
  let files = 0;

  const cli = async <T>(args: string[]): Promise<T> => {
    const result = await h1.cistern([...args, '--json']);
    if (result.code !== 0) throw new Error(`cistern ${args.join(' ')} failed (${result.code}): ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const supervise = async (entry: Entry) => {
    desired.set(entry.name, entry);
    const file = join(h1.dir, `services-${++files}.json`);
    writeFileSync(file, JSON.stringify({ services: [...desired.values()] }));
    return cli<{ ok: boolean; data: { services: Array<{ name: string; state: string }> } }>(['server', 'set-services', 'h2', '--file', file]);
  };
  const probes = async () => (await cli<{ server: ServerView }>(['server', 'show', 'h2'])).server.probes;
  /** The controller's events of one of h2's services. */
  const events = async (service: string) => (await cli<FleetEvent[]>(['events', '--limit', '1000']))
    .filter((e) => e.server === 'h2' && e.kind.startsWith('service-') && e.data.service === service);
  /** The same events, as the agent logged them (pino JSON lines: the kind is the message). */
  const logged = (service: string) => h2.process('agent').log().split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string })
    .filter((e) => e.msg.startsWith('service-') && e.service === service)
    .map((e) => ({ kind: e.msg, data: e }));
  /** service-state events as from>to, the others by kind. */
  const story = (list: ReadonlyArray<{ kind: string; data: Record<string, unknown> }>) => list.map((e) => (e.kind === 'service-state' ? `${String(e.data.from)}>${String(e.data.to)}` : e.kind));
  const waitLogged = (what: string, service: string, check: (story: string[]) => boolean, timeoutMs = 10_000) =>
    waitUntil(what, async () => check(story(logged(service))), { timeoutMs, intervalMs: 50, describe: () => story(logged(service)).join(', ') });
  /** The controller recorded what the agent logged, in the same order. */
  const recorded = async (service: string) => {
    let last: FleetEvent[] = [];
    await waitUntil(`the controller's events of ${service}`, async () => {
      last = await events(service);
      return JSON.stringify(story(last)) === JSON.stringify(story(logged(service)));
    }, { timeoutMs: 15_000, describe: () => `controller: ${story(last).join(', ')}\nagent: ${story(logged(service)).join(', ')}` });
    return last;
  };
  /** Processes in h2's namespace whose command line contains `text`. */
  const pidsOf = async (text: string) => {
    const found: number[] = [];
    for (const pid of await namespacePids(h2.namespace)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(text)) found.push(pid);
      } catch { /* gone meanwhile */ }
    }
    return found;
  };

  beforeAll(async () => {
    lab = await createLab({ hosts: 2, services: { sshd: false, transmission: false, media: false }, fleet: { controller: 'h1', agents: ['h2'] }, timeLimitMs: 150_000 });
    [h1, h2] = lab.hosts as [LabHost, LabHost];
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('restarts the real transmission-daemon after SIGKILL, and it is healthy again', { timeout: 40_000 }, async () => {
    const dir = join(h2.dir, 'transmission');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'settings.json'), `${JSON.stringify(transmissionSettings(dir), null, 2)}\n`);
    const answer = await supervise({
      name: 'transmission', definition: { ...catalog('transmission'), start_grace_s: 10 }, run: true, driver: 'process',
      process: { argv: [TRANSMISSION, '-f', '--config-dir', dir] }, supervision: FAST,
    });
    expect(answer.ok).toBe(true);
    expect(answer.data.services).toEqual([expect.objectContaining({ name: 'transmission', state: 'starting' })]);
    await waitLogged('transmission healthy', 'transmission', (st) => st.at(-1) === 'starting>healthy', 15_000);

    const [pid] = await pidsOf(TRANSMISSION);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const killedAt = Date.now();
    await waitLogged('transmission restarted', 'transmission', (st) => st.includes('service-restart'));
    const detectedIn = Date.now() - killedAt;
    await waitLogged('transmission healthy again', 'transmission', (st) => st.at(-1) === 'starting>healthy' && st.length > 3, 15_000);
    const [again] = await pidsOf(TRANSMISSION);
    expect(again).toBeGreaterThan(0);
    expect(again).not.toBe(pid);
    // Another host reaches the restarted daemon too.
    expect((await h1.http(`http://${h2.address}:${TRANSMISSION_RPC_PORT}/transmission/rpc`, { method: 'POST' })).status).toBe(409);

    const list = await recorded('transmission');
    expect(story(list)).toEqual(['stopped>starting', 'service-started', 'starting>healthy', 'healthy>unhealthy', 'service-restart', 'unhealthy>starting', 'starting>healthy']);
    expect(list.find((e) => e.data.to === 'healthy')?.data.detail).toMatch(/^transmission: HTTP 409/);
    expect(list.find((e) => e.data.to === 'unhealthy')?.data.detail).toMatch(/^transmission: not running \(killed by SIGKILL\)/);
    expect(list.find((e) => e.kind === 'service-restart')?.data).toMatchObject({ attempt: 1, delayMs: 500, restartsInWindow: 1, driver: 'process' });
    // Two failed probes 500 ms apart, then the 500 ms backoff.
    expect(detectedIn).toBeLessThan(5_000);
  });

  it('restarts the Jellyfin stand-in that accepts connections and never answers', { timeout: 40_000 }, async () => {
    h2.setMedia('jellyfin', { health: 'ok' });
    const config: StandinConfig = {
      app: 'jellyfin', port: MEDIA_APPS.jellyfin.port, controlFile: mediaControlFile(h2, 'jellyfin'), apiKey: lab.apiKey, serverName: h2.name, address: h2.address,
    };
    await supervise({
      name: 'jellyfin', definition: { ...catalog('jellyfin'), start_grace_s: 1 }, run: true, driver: 'process',
      process: { argv: [process.execPath, await lab.mediaScript(), JSON.stringify(config)] },
      supervision: { ...FAST, restart_budget: { restarts: 5, window_ms: 60_000 } },
    });
    await waitLogged('jellyfin healthy', 'jellyfin', (st) => st.at(-1) === 'starting>healthy');
    const [pid] = await pidsOf('"app":"jellyfin"');

    h2.setMedia('jellyfin', { health: 'hang' });
    await waitLogged('jellyfin restarted', 'jellyfin', (st) => st.includes('service-restart'));
    h2.setMedia('jellyfin', { health: 'ok' }); // the restart cured it
    await waitLogged('jellyfin healthy again', 'jellyfin', (st) => st.at(-1) === 'starting>healthy' && st.includes('service-restart'));
    const [again] = await pidsOf('"app":"jellyfin"');
    expect(again).toBeGreaterThan(0);
    expect(again).not.toBe(pid);

    const list = await recorded('jellyfin');
    expect(story(list).slice(0, 6)).toEqual(['stopped>starting', 'service-started', 'starting>healthy', 'healthy>unhealthy', 'service-restart', 'unhealthy>starting']);
    expect(list.find((e) => e.data.to === 'unhealthy')?.data.detail).toMatch(/^jellyfin: no answer in time/);
    expect(list.find((e) => e.kind === 'service-restart')?.data).toMatchObject({ attempt: 1, reason: 'jellyfin: no answer in time' });
    // The stand-in saw the probes: from the agent on the same box, to Jellyfin's /health.
    expect(readFileSync(join(h2.dir, 'agent', 'state', 'services', 'jellyfin.log'), 'utf8')).toMatch(/^\S+ 127\.0\.0\.1:\d+ GET \/health -> hang$/m);
    // Transmission was left alone meanwhile.
    expect(story(logged('transmission')).filter((k) => k === 'service-restart')).toHaveLength(1);
  });

  it('gives up on a service that crashes right after start: backoff, then failed after its budget, then left alone', { timeout: 40_000 }, async () => {
    const crasher: ServiceDefinition = {
      name: 'crasher', description: 'exits as soon as it starts', port: 9_999, probe: { kind: 'tcp' }, state_dir: null, single_writer: false,
      needs: { memory_mb: 16, cpu: 0.1, disk_gb: 0 }, systemd_unit: 'crasher.service', start_grace_s: 0,
    };
    await supervise({ name: 'crasher', definition: crasher, run: true, driver: 'process', process: { argv: ['/bin/sh', '-c', 'echo crashing; exit 1'] }, supervision: FAST });
    await waitLogged('crasher failed and stopped', 'crasher', (st) => st.at(-1) === 'service-stopped', 20_000);
    const failedAt = Date.now();
    // The controller's view meanwhile: its event log, and h2's heartbeat.
    const list = await recorded('crasher');
    const restarts = list.filter((e) => e.kind === 'service-restart');
    expect(restarts.map((e) => e.data.delayMs)).toEqual([500, 1_000, 2_000]);
    expect(restarts.map((e) => e.data.restartsInWindow)).toEqual([1, 2, 3]);
    expect(list.find((e) => e.kind === 'service-failed')?.data).toMatchObject({ restarts: 3, windowMs: 60_000, reason: expect.stringMatching(/^crasher: not running \(exited with code 1\)/) });
    expect(story(list).slice(-3)).toEqual(['service-failed', 'starting>failed', 'service-stopped']);
    expect(await probes()).toMatchObject({
      crasher: { state: 'failed', detail: expect.stringMatching(/^restart budget spent \(3 in 60 s\): crasher: not running/) },
      transmission: { state: 'healthy' }, jellyfin: { state: 'healthy' },
    });
    // Left alone: nothing more, well past the largest backoff (2 s) and two probe intervals.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, failedAt + 4_000 - Date.now())));
    expect(story(logged('crasher'))).toEqual(story(list));
    // Started once and restarted three times: four runs, no more.
    const log = join(h2.dir, 'agent', 'state', 'services', 'crasher.log');
    expect(existsSync(log) && readFileSync(log, 'utf8')).toBe('crashing\n'.repeat(4));
  });
});

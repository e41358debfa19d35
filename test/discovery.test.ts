/**
 * Joining without a join command, end to end on loopback with the built CLI: provisioning keys
 * (group, use limit, revocation, a wrong CA) and `--discoverable` boxes approved with
 * `cistern discover approve` (or turned away with `reject`). mDNS is off here (it would leave the machine); the agents are
 * given `--controller`. Finding the controller by mDNS is covered in the fleet lab
 * (test/lab/discovery.test.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DiscoveredBox } from '../src/controller/discovered.js';
import type { RejectedBox } from '../src/controller/ports.js';
import { assertBuilt } from './support/cistern.js';
import { FleetLab, expectRefused, type Agent, type Controller } from './support/fleet.js';

interface ProvisioningKey { id: string; provisioningKey: string; command: string; kind: string; group: string | null; usesLeft: number | null; expiresAt: number | null }

beforeAll(() => assertBuilt());

async function provisioningKey(lab: FleetLab, controller: Controller, args: string[] = []): Promise<ProvisioningKey> {
  return lab.json<ProvisioningKey>(controller, ['token', 'create', '--provisioning', ...args]);
}

function provisioned(lab: FleetLab, controller: Controller, key: string, name: string): Agent {
  return lab.startAgent({ name, args: ['--provisioning-key', key, '--controller', controller.url] });
}

describe('provisioning keys', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  it('register boxes by themselves into the key\'s group, up to its uses, and not after it is revoked', { timeout: 60_000 }, async () => {
    const controller = await lab.startController();
    const key = await provisioningKey(lab, controller, ['--uses', '2', '--group', 'family']);
    expect(key).toMatchObject({ kind: 'provisioning', group: 'family', usesLeft: 2, expiresAt: null });
    expect(key.provisioningKey).toMatch(new RegExp(`^cpk_${key.id}\\.[A-Za-z0-9_-]+\\.${controller.fingerprint.slice(7)}$`));
    expect(key.command).toBe(`cistern agent --provisioning-key ${key.provisioningKey}`);

    const agents = [provisioned(lab, controller, key.provisioningKey, 'den'), provisioned(lab, controller, key.provisioningKey, 'loft')];
    expect((await Promise.all(agents.map((a) => lab.waitRegistered(a)))).sort()).toEqual(['den', 'loft']);
    for (const name of ['den', 'loft']) {
      await lab.waitForServer(controller, name, (s) => s.health === 'healthy' && s.connected, { timeoutMs: 10_000 });
      const events = await lab.events(controller);
      expect(events.find((e) => e.kind === 'registered' && e.server === name)?.data).toMatchObject({ token: key.id, kind: 'provisioning', group: 'family' });
    }
    // The key's secret is never logged by the agent that used it.
    for (const agent of agents) expect(agent.daemon.stdout + agent.daemon.stderr).not.toContain(key.provisioningKey.split('.')[1]);

    await expectRefused(provisioned(lab, controller, key.provisioningKey, 'third'), 'E_TOKEN_USED_UP');

    const other = await provisioningKey(lab, controller);
    const listed = await lab.json<Array<{ id: string; kind: string; state: string }>>(controller, ['token', 'list']);
    expect(listed.find((t) => t.id === other.id)).toMatchObject({ kind: 'provisioning', state: 'active' });
    expect((await lab.cli(controller, ['token', 'revoke', other.id])).code).toBe(0);
    await expectRefused(provisioned(lab, controller, other.provisioningKey, 'fourth'), 'E_TOKEN_REVOKED');
  });

  it('are refused before the secret is sent when the controller\'s CA is not the one in the key, and when malformed', { timeout: 30_000 }, async () => {
    const controller = await lab.startController();
    const key = await provisioningKey(lab, controller);
    const forged = `${key.provisioningKey.slice(0, -64)}${'0'.repeat(64)}`;
    await expectRefused(provisioned(lab, controller, forged, 'mallory'), 'E_CA_MISMATCH');
    const malformed = lab.startAgent({ name: 'typo', args: ['--provisioning-key', 'cpk_nope', '--controller', controller.url] });
    const exit = await malformed.daemon.waitForExit(10_000);
    expect(exit.code).toBe(2);
    expect(malformed.daemon.stderr).toContain('error[E_PROVISIONING_KEY]');
    const events = await lab.events(controller);
    expect(events.filter((e) => e.kind === 'registered' || e.kind === 'registration-refused')).toEqual([]);
  });
});

describe('discoverable boxes', () => {
  let lab: FleetLab;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(() => lab.cleanup());

  it('wait until approved, receive their credential over the held connection, and need nothing on the next start', { timeout: 60_000 }, async () => {
    const controller = await lab.startController();
    const agent = lab.startAgent({ name: 'attic', args: ['--discoverable', '--controller', controller.url] });
    const [, shownKey] = await agent.daemon.waitForOutput(/^waiting for approval as "attic"; this box's key fingerprint is ([0-9a-f-]{19})$/m, { timeoutMs: 15_000 });
    expect(agent.daemon.stdout).toContain(`trusting the controller at ${controller.url} on first use: its CA is ${controller.fingerprint}`);
    // The pinned CA is kept, 0600, before anything else happens.
    const pin = JSON.parse(readFileSync(join(agent.stateDir, 'controller-ca.json'), 'utf8')) as { fingerprint: string };
    expect(pin.fingerprint).toBe(controller.fingerprint);
    expect(statSync(join(agent.stateDir, 'controller-ca.json')).mode & 0o777).toBe(0o600);

    const pending = await lab.json<DiscoveredBox[]>(controller, ['discover']);
    expect(pending).toMatchObject([{ name: 'attic', address: '127.0.0.1', approvable: true }]);
    expect(pending[0]?.fingerprint.slice(7, 23)).toBe(shownKey?.replaceAll('-', ''));
    const table = await lab.cli(controller, ['discover']);
    expect(table.stdout).toMatch(new RegExp(`^attic\\s+127\\.0\\.0\\.1\\s+${shownKey}\\s`, 'm'));
    expect((await lab.status(controller)).map((s) => s.name)).toEqual([]);

    const approved = await lab.cli(controller, ['discover', 'approve', 'attic', '--group', 'attic-boxes']);
    expect(approved.stdout).toBe(`approved attic (key ${shownKey})\n`);
    expect(await lab.waitRegistered(agent)).toBe('attic');
    await lab.waitForServer(controller, 'attic', (s) => s.health === 'healthy' && s.connected, { timeoutMs: 10_000 });
    expect(await lab.json<DiscoveredBox[]>(controller, ['discover'])).toEqual([]);
    expect(statSync(join(agent.stateDir, 'credential.json')).mode & 0o777).toBe(0o600);
    expect(agent.daemon.stdout + agent.daemon.stderr).not.toMatch(/cag_[0-9a-f]{8}\.[A-Za-z0-9_-]{10}/);

    // Restarted without flags: the saved credential, connected straight away.
    expect((await agent.daemon.stop()).code).toBe(0);
    const again = lab.startAgent({ stateDir: agent.stateDir, home: agent.home });
    await again.daemon.waitForOutput(/^agent [0-9a-f-]{36} starting$/m, { timeoutMs: 15_000 });
    await lab.waitForServer(controller, 'attic', (s) => s.health === 'healthy' && s.connected, { timeoutMs: 10_000 });
  });

  it('approve --all admits every waiting box; a box that stops waiting is gone from the list', { timeout: 60_000 }, async () => {
    const controller = await lab.startController();
    const boxes = ['one', 'two', 'three'].map((name) => lab.startAgent({ name, stateDir: join(lab.dir(`agent-${name}`), 'state'), args: ['--discoverable', '--controller', controller.url] }));
    await Promise.all(boxes.map((b) => b.daemon.waitForOutput(/^waiting for approval as /m, { timeoutMs: 15_000 })));
    expect((await lab.json<DiscoveredBox[]>(controller, ['discover'])).map((b) => b.name)).toEqual(['one', 'three', 'two']);
    expect((await (boxes[2] as Agent).daemon.stop()).code).toBe(0);
    expect((await lab.json<DiscoveredBox[]>(controller, ['discover'])).map((b) => b.name)).toEqual(['one', 'two']);
    const approved = await lab.json<Array<{ name: string }>>(controller, ['discover', 'approve', '--all']);
    expect(approved.map((a) => a.name).sort()).toEqual(['one', 'two']);
    await Promise.all(boxes.slice(0, 2).map((b) => lab.waitRegistered(b)));
    const unknown = await lab.cli(controller, ['discover', 'approve', 'three']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error[E_DISCOVERED_NOT_FOUND]');
  });

  it('rejected: the waiting agent exits saying so, comes back refused at once and unlisted, and may wait again once unrejected', { timeout: 60_000 }, async () => {
    const controller = await lab.startController();
    const args = ['--discoverable', '--controller', controller.url];
    const agent = lab.startAgent({ name: 'stranger', args });
    const [, shownKey] = await agent.daemon.waitForOutput(/^waiting for approval as "stranger"; this box's key fingerprint is ([0-9a-f-]{19})$/m, { timeoutMs: 15_000 });

    // Every name is checked first: one unknown name rejects nothing.
    const unknown = await lab.cli(controller, ['discover', 'reject', 'stranger', 'nobody']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('error[E_DISCOVERED_NOT_FOUND]: no pending box is named "nobody"')]);
    expect((await lab.json<DiscoveredBox[]>(controller, ['discover'])).map((b) => b.name)).toEqual(['stranger']);

    const rejected = await lab.cli(controller, ['discover', 'reject', 'stranger']);
    expect([rejected.code, rejected.stdout]).toEqual([0, `rejected stranger (key ${shownKey})\n`]);
    const stderr = await expectRefused(agent, 'E_REGISTRATION_REFUSED');
    expect(stderr).toContain(`the controller's admin rejected this box (key ${shownKey})`);
    expect(await lab.json<DiscoveredBox[]>(controller, ['discover'])).toEqual([]);

    // The same box again (same state dir, same key): refused at once, never listed as pending.
    const again = lab.startAgent({ name: 'stranger', stateDir: agent.stateDir, home: agent.home, args });
    expect(await expectRefused(again, 'E_REGISTRATION_REFUSED')).toContain(`rejected this box (key ${shownKey})`);
    expect(again.daemon.stdout).not.toContain('waiting for approval');
    expect(await lab.json<DiscoveredBox[]>(controller, ['discover'])).toEqual([]);

    const listed = await lab.json<RejectedBox[]>(controller, ['discover', 'rejected']);
    expect(listed).toMatchObject([{ name: 'stranger', address: '127.0.0.1' }]);
    expect(listed[0]?.fingerprint.slice(7, 23)).toBe(shownKey?.replaceAll('-', ''));
    expect((await lab.cli(controller, ['discover', 'rejected'])).stdout).toMatch(new RegExp(`^${shownKey}\\s+stranger\\s+127\\.0\\.0\\.1\\s+\\d+s ago$`, 'm'));

    const undone = await lab.cli(controller, ['discover', 'unreject', shownKey as string]);
    expect([undone.code, undone.stdout]).toEqual([0, `unrejected stranger (key ${shownKey}): it may wait for approval again\n`]);
    const twice = await lab.cli(controller, ['discover', 'unreject', 'stranger']);
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringContaining('error[E_REJECTED_NOT_FOUND]')]);
    expect(await lab.json<RejectedBox[]>(controller, ['discover', 'rejected'])).toEqual([]);

    const third = lab.startAgent({ name: 'stranger', stateDir: agent.stateDir, home: agent.home, args });
    await third.daemon.waitForOutput(/^waiting for approval as "stranger"/m, { timeoutMs: 15_000 });
    expect((await lab.cli(controller, ['discover', 'approve', 'stranger'])).code).toBe(0);
    expect(await lab.waitRegistered(third)).toBe('stranger');

    const events = (await lab.cli(controller, ['events'])).stdout;
    expect(events).toMatch(/ box-rejected +name=stranger address=127\.0\.0\.1 fingerprint=sha256:[0-9a-f]{64}$/m);
    expect(events).toMatch(/ box-unrejected +name=stranger fingerprint=sha256:[0-9a-f]{64}$/m);
  });
});

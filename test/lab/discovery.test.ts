/**
 * Joining the fleet over a real network with real mDNS, in the lab: three boxes carry a
 * provisioning key and find the controller by themselves; a fourth is discoverable and joins
 * once approved. Avahi on the controller's host sees every agent's record. Then one box is cut
 * off and restored, and `cistern status` and inventory.yaml follow each step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ServerView } from '../../src/controller/core.js';
import type { DiscoveredBox } from '../../src/controller/discovered.js';
import type { FleetEvent } from '../../src/controller/events.js';
import { waitUntil } from '../support/fleet.js';
import type { LabHost } from './host.js';
import { createLab, type Lab } from './index.js';

const INVENTORY = `# The lab fleet. Cistern writes only the status: blocks.
servers: {}
`;

describe('joining the fleet in the lab: provisioning keys, approval, mDNS and Avahi', () => {
  let lab: Lab;
  let h1: LabHost;
  let boxes: LabHost[];
  let inventory: string;

  const json = <T>(args: string[]) => h1.cisternJson<T>(args);
  const status = () => json<ServerView[]>(['status']);
  const inventoryHealth = (name: string) => (parse(readFileSync(inventory, 'utf8')) as { servers: Record<string, { status?: { health?: string } }> }).servers[name]?.status?.health;

  beforeAll(async () => {
    lab = await createLab({ hosts: 5, services: { sshd: false, transmission: false, media: false }, timeLimitMs: 150_000 });
    [h1, ...boxes] = lab.hosts as [LabHost, ...LabHost[]];
    inventory = join(h1.dir, 'inventory.yaml');
    writeFileSync(inventory, INVENTORY);
    await Promise.all([h1.startController({ inventory }), h1.startAvahi()]);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('three boxes with a provisioning key and one approved box all join, healthy; Avahi lists their records', { timeout: 60_000 }, async () => {
    const key = await json<{ id: string; provisioningKey: string }>(['token', 'create', '--provisioning', '--uses', '3', '--group', 'lab']);
    const [h2, h3, h4, h5] = boxes as [LabHost, LabHost, LabHost, LabHost];
    // No --controller anywhere: each box finds it by mDNS.
    const [, , , waiting] = await Promise.all([
      h2.startAgent({ provisioningKey: key.provisioningKey }),
      h3.startAgent({ provisioningKey: key.provisioningKey }),
      h4.startAgent({ provisioningKey: key.provisioningKey }),
      h5.startAgent({ discoverable: true }),
    ]);
    const shown = /this box's key fingerprint is ([0-9a-f-]{19})$/m.exec(waiting.log())?.[1];
    expect(waiting.log()).toMatch(/^trusting the controller at https:\/\/10\.213\.0\.11:7443 on first use/m);

    const pending = await waitUntil('h5 pending and approvable', async () => (await json<DiscoveredBox[]>(['discover'])).find((b) => b.name === 'h5' && b.approvable));
    expect(pending).toMatchObject({ address: h5.address, seenBy: ['mdns', 'connection'] });
    expect(pending.fingerprint.slice(7, 23)).toBe(shown?.replaceAll('-', ''));
    // The provisioned boxes are members, not pending.
    expect((await json<DiscoveredBox[]>(['discover'])).map((b) => b.name)).toEqual(['h5']);

    expect((await h1.cistern(['discover', 'approve', 'h5'])).stdout).toBe(`approved h5 (key ${shown})\n`);
    await waiting.waitForLog(/^registered as h5$/m, 10_000);

    const servers = await waitUntil('all four healthy', async () => {
      const list = await status();
      return list.length === 4 && list.every((s) => s.health === 'healthy' && s.connected) && list;
    }, { timeoutMs: 10_000 });
    expect(servers.map((s) => [s.name, s.address])).toEqual(boxes.map((b) => [b.name, b.address]));
    await waitUntil('inventory status healthy', async () => boxes.every((b) => inventoryHealth(b.name) === 'healthy'), { timeoutMs: 10_000 });
    expect(readFileSync(inventory, 'utf8')).toMatch(/^# The lab fleet\. Cistern writes only the status: blocks\.$/m);

    const events = await json<FleetEvent[]>(['events', '--limit', '1000']);
    const joined = Object.fromEntries(events.filter((e) => e.kind === 'registered').map((e) => [e.server, e.data]));
    for (const name of ['h2', 'h3', 'h4']) expect(joined[name]).toMatchObject({ token: key.id, kind: 'provisioning', group: 'lab' });
    expect(joined.h5).toMatchObject({ via: 'approval', fingerprint: pending.fingerprint });

    // Avahi on h1 resolves every agent's record, each now carrying its agent id.
    const ids = Object.fromEntries(servers.map((s) => [s.name, s.agentId]));
    let seen: unknown[] = [];
    const avahiFrom = Date.now();
    const records = await waitUntil('Avahi lists all four agents with their ids', async () => {
      const found = await h1.avahiBrowse('_cistern._tcp');
      seen = found.map((r) => ({ name: r.txt.name, id: r.txt.id, address: r.address }));
      return boxes.every((b) => found.some((r) => r.txt.name === b.name && r.txt.id === ids[b.name])) && found;
    }, { timeoutMs: 15_000, describe: () => `Avahi listed: ${JSON.stringify(seen)}; ids: ${JSON.stringify(ids)}` });
    console.log(`Avahi listed all four agents with their ids ${Date.now() - avahiFrom} ms after all were healthy`);
    for (const b of boxes) {
      const record = records.find((r) => r.txt.name === b.name);
      expect(record).toMatchObject({ address: b.address, port: 9810, txt: { id: ids[b.name], v: expect.any(String), profile: expect.any(String), fp: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } });
    }
    expect(records.find((r) => r.txt.name === 'h5')?.txt.fp).toBe(pending.fingerprint);
  });

  it('a box cut off turns unreachable within the TTL and healthy again when restored; inventory.yaml follows', { timeout: 60_000 }, async () => {
    const h3 = boxes[1] as LabHost;
    await lab.cut(h3);
    const cutAt = Date.now();
    try {
      // TTL 3 s, a 1 s health tick and the status poll: within 5 s.
      await waitUntil('h3 unreachable', async () => (await status()).find((s) => s.name === 'h3' && s.health === 'unreachable'), { timeoutMs: 5_000, intervalMs: 100 });
      expect(Date.now() - cutAt).toBeLessThan(5_000);
      await waitUntil('inventory says h3 unreachable', async () => inventoryHealth('h3') === 'unreachable', { timeoutMs: 5_000 });
      expect((await status()).filter((s) => s.name !== 'h3').every((s) => s.health === 'healthy')).toBe(true);
    } finally {
      await lab.restore(h3);
    }
    await waitUntil('h3 healthy again', async () => (await status()).find((s) => s.name === 'h3' && s.health === 'healthy' && s.connected), { timeoutMs: 20_000 });
    await waitUntil('inventory says h3 healthy', async () => inventoryHealth('h3') === 'healthy', { timeoutMs: 5_000 });
  });
});

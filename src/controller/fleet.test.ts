import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { MountHealth } from '../protocol/messages.js';
import { ackSchema, heartbeatSchema } from '../protocol/messages.js';
import { testController, type TestController } from '../testing/controller.js';
import { tempDir } from '../testing/tmp.js';
import { silentLogger } from '../util/logger.js';
import { ControllerCore, type InventoryBinding } from './core.js';
import { Fleet } from './fleet.js';
import { healthConfig } from './health.js';
import { Hub } from './hub.js';
import { InventorySync } from './inventory-sync.js';

const AGE = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
const mount = (state: MountHealth['state']): MountHealth => ({
  path: '/mnt/media', mountPoint: '/mnt/media', source: 'eden:/mnt/media', fsType: 'nfs4', state, healthy: state === 'ok',
  mounted: true, stale: state === 'stale', freeBytes: 1, totalBytes: 2, checkedAt: 1,
});

let controller: TestController | undefined;
afterEach(async () => { await controller?.close(); controller = undefined; });

describe('mount health in heartbeats', () => {
  it('is an optional part of the heartbeat, and the ack carries the paths to watch', () => {
    expect(heartbeatSchema.parse({ type: 'heartbeat', seq: 1, sentAt: 1 }).mounts).toBeUndefined();
    expect(heartbeatSchema.parse({ type: 'heartbeat', seq: 1, sentAt: 1, mounts: [mount('stale')] }).mounts?.[0]?.state).toBe('stale');
    expect(heartbeatSchema.safeParse({ type: 'heartbeat', seq: 1, sentAt: 1, mounts: [{ ...mount('ok'), state: 'fine' }] }).success).toBe(false);
    expect(ackSchema.parse({ type: 'ack', seq: 1, intervalMs: 5000, watch: ['/mnt/media'] }).watch).toEqual(['/mnt/media']);
  });

  it('keeps each agent\'s latest report, and the last one when a heartbeat has none', () => {
    const fleet = new Fleet(healthConfig());
    fleet.track('a1', 'rivers', 0);
    expect(fleet.get('a1')?.mounts).toBeUndefined();
    fleet.heartbeat('a1', { type: 'heartbeat', seq: 0, sentAt: 1, services: {}, mounts: [mount('ok')] }, 1);
    fleet.heartbeat('a1', { type: 'heartbeat', seq: 1, sentAt: 2, services: {}, mounts: [mount('timeout')] }, 2);
    fleet.heartbeat('a1', { type: 'heartbeat', seq: 2, sentAt: 3, services: {} }, 3);
    expect(fleet.get('a1')?.mounts?.map((m) => m.state)).toEqual(['timeout']);
  });

  it('shows in the server view, and agents are asked to watch the inventory\'s media root', async () => {
    controller = await testController();
    const { core, store } = controller;
    const { token } = core.createJoinToken({ ttlMs: null, uses: null, group: null, description: null });
    const { agentId } = core.register({ token, hostname: 'rivers', version: 't', ageRecipient: AGE, facts: {} });
    expect(core.servers()[0]).not.toHaveProperty('mounts');
    core.heartbeat(agentId, { type: 'heartbeat', seq: 0, sentAt: 1, services: {}, mounts: [mount('stale')] });
    expect(core.servers()[0]?.mounts?.map((m) => m.state)).toEqual(['stale']);
    expect(core.watchPaths()).toEqual([]);

    const binding: InventoryBinding = {
      match: () => undefined, names: () => [], server: () => undefined, registered: () => {}, healthChanged: () => {},
      watchPaths: () => ['/mnt/media'],
    };
    const bound = new ControllerCore(store, new Fleet(healthConfig()), new Hub(), core.events, { heartbeatIntervalMs: 5_000 }, binding);
    expect(bound.watchPaths()).toEqual(['/mnt/media']);
  });

  it('takes the media root from inventory.yaml', async () => {
    const file = join(tempDir(), 'inventory.yaml');
    writeFileSync(file, 'servers:\n  eden:\n    hostname: eden\nstorage:\n  media_root: /mnt/media\n');
    const sync = new InventorySync({ file, logger: silentLogger(), debounceMs: 10 });
    await sync.start();
    expect(sync.watchPaths()).toEqual(['/mnt/media']);
    await sync.close();
  });
});

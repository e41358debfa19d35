import { afterEach, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../testing/controller.js';
import { ControllerCore, type InventoryBinding } from './core.js';
import { Fleet } from './fleet.js';
import { healthConfig } from './health.js';
import { Hub } from './hub.js';

const AGE = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
let controller: TestController | undefined;
afterEach(async () => { await controller?.close(); controller = undefined; });

describe('ControllerCore', () => {
  it('persists last-seen times in batches, not on every heartbeat', async () => {
    let now = 1_000_000;
    controller = await testController({ clock: () => now });
    const { core, store } = controller;
    const { token } = core.createJoinToken({ ttlMs: null, uses: null, group: null, description: null });
    const agents = ['a', 'b'].map((name) => core.register({ token, hostname: name, version: 't', ageRecipient: AGE, facts: {} }));
    for (const [i, agent] of agents.entries()) {
      now += 1_000;
      core.heartbeat(agent.agentId, { type: 'heartbeat', seq: i, sentAt: now, services: {} });
    }
    expect(store.agents.get(agents[0]!.agentId)?.lastSeenAt).toBeNull();
    expect(core.flushLastSeen()).toBe(2);
    expect(store.agents.get(agents[0]!.agentId)?.lastSeenAt).toBe(1_001_000);
    expect(store.agents.get(agents[1]!.agentId)?.lastSeenAt).toBe(1_002_000);
    expect(core.flushLastSeen()).toBe(0);
  });

  it('names a new agent after its host, uniquely', async () => {
    controller = await testController();
    const { core } = controller;
    const { token } = core.createJoinToken({ ttlMs: null, uses: null, group: null, description: null });
    const names = ['Eden.lan', 'eden', 'eden.local'].map((hostname) => core.register({ token, hostname, version: 't', ageRecipient: AGE, facts: {} }).name);
    expect(names).toEqual(['eden', 'eden-2', 'eden-3']);
  });
});

describe('ControllerCore with an inventory', () => {
  it('adds agents registered before the inventory was given to it, at start', async () => {
    controller = await testController();
    const { core, store } = controller;
    const { token } = core.createJoinToken({ ttlMs: null, uses: null, group: null, description: null });
    core.register({ token, hostname: 'early', version: 't', ageRecipient: AGE, facts: {} });
    const seen: string[] = [];
    const binding: InventoryBinding = {
      match: () => undefined, names: () => [], server: () => undefined,
      registered: (name) => { seen.push(name); }, healthChanged: () => {},
    };
    const restarted = new ControllerCore(store, new Fleet(healthConfig()), new Hub(), core.events, { heartbeatIntervalMs: 5_000 }, binding);
    expect(seen).toEqual(['early']);
    expect(restarted.servers().map((s) => s.name)).toEqual(['early']);
  });
});

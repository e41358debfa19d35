import { describe, expect, it } from 'vitest';
import { testStore } from '../../testing/store.js';
import type { NewAgent } from './index.js';

const NOW = Date.parse('2026-11-28T10:00:00Z');
const agent = (name: string, extra: Partial<NewAgent> = {}): NewAgent => ({
  id: `id-${name}`, name, hostname: `${name}.lan`, credentialHash: `hash-${name}`, createdAt: NOW, ...extra,
});

describe('agent store', () => {
  it('creates agents and finds them by id, name and credential', () => {
    const store = testStore();
    const created = store.createAgent(agent('nas', { address: '192.168.1.5', group: 'media', facts: { cpus: 4 }, ageRecipient: 'age1xyz' }));
    expect(created).toEqual({
      id: 'id-nas', name: 'nas', hostname: 'nas.lan', address: '192.168.1.5', credentialHash: 'hash-nas', ageRecipient: 'age1xyz',
      group: 'media', facts: { cpus: 4 }, profile: {}, createdAt: NOW, lastSeenAt: null, revokedAt: null,
    });
    expect(store.getAgent('id-nas')).toEqual(created);
    expect(store.getAgentByName('nas')).toEqual(created);
    expect(store.getAgentByCredentialHash('hash-nas')).toEqual(created);
    expect(store.getAgent('nope')).toBeUndefined();
    expect(store.getAgentByCredentialHash('nope')).toBeUndefined();
  });

  it('lists agents by name', () => {
    const store = testStore();
    for (const name of ['pi', 'attic', 'nas']) store.createAgent(agent(name));
    expect(store.listAgents().map((row) => row.name)).toEqual(['attic', 'nas', 'pi']);
  });

  it('refuses a second agent with the same name, naming it', () => {
    const store = testStore();
    store.createAgent(agent('nas'));
    expect(() => store.createAgent(agent('nas', { id: 'other', credentialHash: 'other' }))).toThrow(
      expect.objectContaining({ code: 'E_AGENT_EXISTS', message: 'an agent named "nas" already exists' }),
    );
    expect(() => store.createAgent(agent('pi', { credentialHash: 'hash-nas' }))).toThrow(/UNIQUE constraint failed: agents.credential_hash/);
  });

  it('renames, updates facts, revokes', () => {
    const store = testStore();
    store.createAgent(agent('nas'));
    store.createAgent(agent('pi'));
    expect(store.renameAgent('id-nas', 'vault')).toBe(true);
    expect(store.getAgent('id-nas')?.name).toBe('vault');
    expect(() => store.renameAgent('id-pi', 'vault')).toThrow(expect.objectContaining({ code: 'E_AGENT_EXISTS' }));
    expect(store.renameAgent('nope', 'x')).toBe(false);

    expect(store.updateFacts('id-nas', { os: 'debian', disks: [{ size: 4e12 }] })).toBe(true);
    expect(store.getAgent('id-nas')?.facts).toEqual({ os: 'debian', disks: [{ size: 4e12 }] });
    expect(store.updateFacts('nope', {})).toBe(false);

    expect(store.revokeAgent('id-pi', NOW + 10)).toBe(true);
    expect(store.revokeAgent('id-pi', NOW + 20)).toBe(true);
    expect(store.getAgentByCredentialHash('hash-pi')?.revokedAt).toBe(NOW + 10);
    expect(store.revokeAgent('nope')).toBe(false);
  });

  it('records the last heartbeat and never moves it back', () => {
    const store = testStore();
    store.createAgent(agent('nas'));
    store.touchLastSeen('id-nas', NOW + 2000);
    store.touchLastSeen('id-nas', NOW + 1000);
    expect(store.getAgent('id-nas')?.lastSeenAt).toBe(NOW + 2000);
    store.touchLastSeen('nope', NOW);
  });
});

import { describe, expect, it } from 'vitest';
import { resolveGroups } from '../inventory/groups.js';
import type { Inventory } from '../inventory/schema.js';
import { fakeEd25519 } from '../testing/ssh-keys.js';
import { levelKeys, mergedKeys } from './merge.js';

const k = (name: string, seed: number) => ({ name, key: fakeEd25519(seed) });

const inventory: Inventory = {
  ssh_keys: [k('alice', 1), k('bob', 2), k('carol', 3)],
  groups: {
    zeta: { members: ['eden'], ssh_keys: [k('bob', 20)] },
    alpha: { members: ['eden'], ssh_keys: [k('bob', 10), k('dave', 4)] },
    high: { members: ['eden'], priority: -1, ssh_keys: [k('carol', 30)] },
  },
  servers: {
    eden: { hostname: 'eden', ssh_keys: [k('alice', 100)] },
    rivers: { hostname: 'rivers' },
  },
};

describe('mergedKeys', () => {
  it('merges fleet < groups (priority, then name) < server, a name replacing the same name below', () => {
    const keys = mergedKeys(inventory, 'eden', resolveGroups(inventory));
    expect(keys.map((key) => [key.name, key.origin, key.key])).toEqual([
      ['alice', 'server', fakeEd25519(100)],
      ['bob', 'group:zeta', fakeEd25519(20)], // alpha before zeta at equal priority: zeta wins
      ['carol', 'group:high', fakeEd25519(30)], // priority -1 applies first, but still over fleet
      ['dave', 'group:alpha', fakeEd25519(4)],
    ]);
  });

  it('gives a server outside every group the fleet keys, and nothing to an empty fleet', () => {
    expect(mergedKeys(inventory, 'rivers', resolveGroups(inventory)).map((key) => key.origin)).toEqual(['fleet', 'fleet', 'fleet']);
    expect(mergedKeys({ servers: { x: { hostname: 'x' } } }, 'x', resolveGroups({}))).toEqual([]);
  });

  it('reads the keys of one level', () => {
    expect(levelKeys(inventory, { kind: 'group', name: 'alpha' }).map((key) => key.name)).toEqual(['bob', 'dave']);
    expect(levelKeys(inventory, { kind: 'server', name: 'rivers' })).toEqual([]);
  });
});

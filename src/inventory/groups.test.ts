import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { resolveGroups, selectServers } from './groups.js';
import type { Inventory } from './schema.js';
import { mergedVars } from './vars.js';

const inventory: Inventory = {
  servers: {
    eden: { hostname: 'eden', tags: ['tv'], location: 'home', vars: { port: 1 } },
    rivers: { hostname: 'rivers', tags: ['tv'], location: 'attic' },
    ocean: { hostname: 'ocean', location: 'grandma' },
  },
  groups: {
    tv: { selector: 'tag:tv', vars: { greeting: 'tv', color: 'blue' } },
    family: { members: ['ocean', 'eden'], vars: { greeting: 'family', color: 'green' } },
    important: { selector: 'group:tv,location=home', priority: 10, vars: { greeting: 'important' } },
    zz: { members: ['eden'], priority: -5, vars: { color: 'red' } },
  },
  vars: { greeting: 'fleet', port: 22, motto: 'hi' },
};

describe('groups', () => {
  it('resolves members by name and selector, including groups of groups', () => {
    const { members, findings } = resolveGroups(inventory);
    expect(findings).toEqual([]);
    expect(members.get('tv')).toEqual(['eden', 'rivers']);
    expect(members.get('family')).toEqual(['eden', 'ocean']);
    expect(members.get('important')).toEqual(['eden']);
  });

  it('selects servers in inventory order, and refuses unknown groups', () => {
    expect(selectServers(inventory, 'group:family,!tag:tv')).toEqual(['ocean']);
    expect(selectServers(inventory, undefined)).toEqual(['eden', 'rivers', 'ocean']);
    expect(() => selectServers(inventory, 'group:nope')).toThrow(CisternError);
  });
});

describe('variable precedence: fleet < groups (by priority, then name) < server', () => {
  const resolution = resolveGroups(inventory);

  it('lets the server win over everything', () => {
    const { vars, origin } = mergedVars(inventory, 'eden', resolution);
    expect(vars.port).toBe(1);
    expect(origin.port).toBe('server');
  });

  it('orders groups by priority, then by name, later wins', () => {
    // eden is in family (0), important (10), tv (0), zz (-5): zz, family, tv, important.
    const { vars, origin } = mergedVars(inventory, 'eden', resolution);
    expect(vars.greeting).toBe('important');
    expect(vars.color).toBe('blue');
    expect(origin.color).toBe('group:tv');
    expect(vars.motto).toBe('hi');
    expect(origin.motto).toBe('fleet');
  });

  it('is deterministic whatever the order groups are written in', () => {
    const reversed: Inventory = { ...inventory, groups: Object.fromEntries(Object.entries(inventory.groups ?? {}).reverse()) };
    expect(mergedVars(reversed, 'eden', resolveGroups(reversed))).toEqual(mergedVars(inventory, 'eden', resolution));
  });

  it('falls back to fleet values for a server in no group', () => {
    const lone: Inventory = { ...inventory, servers: { ...inventory.servers, lone: { hostname: 'lone' } } };
    expect(mergedVars(lone, 'lone', resolveGroups(lone)).vars).toEqual({ greeting: 'fleet', port: 22, motto: 'hi' });
  });
});

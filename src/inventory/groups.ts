/**
 * Groups and selection. A group's members are the servers it names plus the servers its selector
 * matches; a selector may use `group:OTHER`, so groups resolve in dependency order and a cycle is
 * an error. Pure: takes an inventory value, returns memberships and findings.
 */
import { CisternError } from '../errors.js';
import type { FindingInput } from './findings.js';
import type { Inventory, Server } from './schema.js';
import { parseSelector, referencedGroups, selectorMatches, type SelectableServer, type Selector } from './selector.js';

export interface GroupResolution {
  /** Group name → member server names, in inventory order. */
  members: Map<string, string[]>;
  /** Server name → names of the groups it belongs to. */
  membership: Map<string, Set<string>>;
  findings: FindingInput[];
}

export function serverEntries(inventory: Inventory): [string, Server][] {
  return Object.entries(inventory.servers ?? {}).flatMap(([name, server]) => (server ? [[name, server] as [string, Server]] : []));
}

export function selectableServer(name: string, server: Server, groups: ReadonlySet<string>): SelectableServer {
  const fields: Record<string, string> = {
    hostname: server.hostname,
    address: server.address ?? server.hostname,
    profile: server.hardware_profile ?? 'auto',
    health: server.status?.health ?? 'unknown',
  };
  if (server.role !== undefined) fields.role = server.role;
  if (server.location !== undefined) fields.location = server.location;
  if (server.hardware_type !== undefined) fields.hardware_type = server.hardware_type;
  const labels = Object.fromEntries(Object.entries(server.labels ?? {}).map(([k, v]) => [k, String(v)]));
  return { name, tags: server.tags ?? [], groups, fields, labels };
}

export function resolveGroups(inventory: Inventory): GroupResolution {
  const servers = serverEntries(inventory);
  const serverNames = new Set(servers.map(([name]) => name));
  const groups = Object.entries(inventory.groups ?? {});
  const findings: FindingInput[] = [];
  const selectors = new Map<string, Selector>();
  for (const [group, def] of groups) {
    if (def?.selector === undefined) continue;
    try {
      selectors.set(group, parseSelector(def.selector));
    } catch (error) {
      if (!(error instanceof CisternError)) throw error;
      findings.push({
        severity: 'error', code: 'invalid-selector', path: ['groups', group, 'selector'],
        message: error.message.split('\n')[0] ?? error.message, found: JSON.stringify(def.selector),
        expected: 'a selector, as with --on',
      });
    }
  }

  const members = new Map<string, string[]>();
  const membership = new Map<string, Set<string>>(servers.map(([name]) => [name, new Set<string>()]));
  const state = new Map<string, 'visiting' | 'done'>();

  const resolve = (group: string, trail: string[]): void => {
    if (state.get(group) === 'done') return;
    if (state.get(group) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(group)), group].join(' → ');
      findings.push({ severity: 'error', code: 'group-cycle', path: ['groups', group, 'selector'], message: `groups refer to each other in a cycle: ${cycle}` });
      return;
    }
    state.set(group, 'visiting');
    const def = inventory.groups?.[group];
    const selector = selectors.get(group);
    for (const ref of selector ? referencedGroups(selector) : []) {
      if (inventory.groups?.[ref] === undefined) {
        findings.push({ severity: 'error', code: 'unknown-group', path: ['groups', group, 'selector'], message: `selector refers to group "${ref}", which is not defined`, found: ref, expected: 'a group under groups:' });
      } else resolve(ref, [...trail, group]);
    }
    const named = new Set<string>();
    (def?.members ?? []).forEach((member, index) => {
      if (serverNames.has(member)) named.add(member);
      else findings.push({ severity: 'error', code: 'unknown-server', path: ['groups', group, 'members', index], message: `group member "${member}" is not a server`, found: JSON.stringify(member), expected: 'a name under servers:' });
    });
    const list: string[] = [];
    for (const [name, server] of servers) {
      const inGroup = named.has(name) || (selector !== undefined && selectorMatches(selector, selectableServer(name, server, membership.get(name) ?? new Set())));
      if (inGroup) {
        list.push(name);
        membership.get(name)?.add(group);
      }
    }
    members.set(group, list);
    state.set(group, 'done');
  };
  for (const [group] of groups) resolve(group, []);
  return { members, membership, findings };
}

/** Names of the servers a selector picks, in inventory order. Throws E_SELECTOR when malformed. */
export function selectServers(inventory: Inventory, selectorText: string | undefined, resolution = resolveGroups(inventory)): string[] {
  const servers = serverEntries(inventory);
  if (selectorText === undefined) return servers.map(([name]) => name);
  const selector = parseSelector(selectorText);
  for (const group of referencedGroups(selector)) {
    if (!resolution.members.has(group)) {
      throw new CisternError('E_SELECTOR', `selector refers to group "${group}", which is not defined`, {
        exitCode: 2, hint: `groups: ${[...resolution.members.keys()].join(', ') || '(none defined)'}`,
      });
    }
  }
  return servers
    .filter(([name, server]) => selectorMatches(selector, selectableServer(name, server, resolution.membership.get(name) ?? new Set())))
    .map(([name]) => name);
}

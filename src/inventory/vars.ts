/**
 * Template variables for one server, merged by precedence (lowest first):
 *
 *   1. fleet      top-level `vars:`
 *   2. groups     each group's `vars:`, groups ordered by `priority` (default 0, lower first),
 *                 then by group name; a later group overrides an earlier one
 *   3. server     the server's own `vars:`
 *
 * As in Ansible's default (`hash_behaviour = replace`), a variable is replaced whole, maps are
 * not deep-merged. The result also says where each variable came from.
 */
import type { GroupResolution } from './groups.js';
import type { Inventory } from './schema.js';

export interface MergedVars {
  vars: Record<string, unknown>;
  /** Variable → "fleet", "group:NAME" or "server". */
  origin: Record<string, string>;
}

/** A server's groups in merge order: by priority (lower first), then by name. */
export function orderedGroups(inventory: Inventory, serverName: string, resolution: GroupResolution): string[] {
  return [...(resolution.membership.get(serverName) ?? [])]
    .map((name) => ({ name, priority: inventory.groups?.[name]?.priority ?? 0 }))
    .sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((g) => g.name);
}

export function mergedVars(inventory: Inventory, serverName: string, resolution: GroupResolution): MergedVars {
  const vars: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const apply = (layer: Record<string, unknown> | undefined, source: string) => {
    for (const [key, value] of Object.entries(layer ?? {})) {
      vars[key] = value;
      origin[key] = source;
    }
  };
  apply(inventory.vars, 'fleet');
  for (const group of orderedGroups(inventory, serverName, resolution)) apply(inventory.groups?.[group]?.vars, `group:${group}`);
  apply(inventory.servers?.[serverName]?.vars, 'server');
  return { vars, origin };
}

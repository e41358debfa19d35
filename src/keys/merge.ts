/**
 * The SSH keys each server should accept, merged from the inventory's levels with the same
 * precedence as template variables (lowest first):
 *
 *   1. fleet      top-level `ssh_keys:`
 *   2. groups     each group's `ssh_keys:`, groups ordered by `priority` (default 0, lower first),
 *                 then by group name
 *   3. server     the server's own `ssh_keys:`
 *
 * A key name at a more specific level replaces the key of the same name from a lower one (and
 * keeps its place in the list); keys are never merged field by field. Pure.
 */
import type { GroupResolution } from '../inventory/groups.js';
import type { Inventory, SshKey } from '../inventory/schema.js';
import { orderedGroups } from '../inventory/vars.js';

export interface EffectiveKey extends SshKey {
  /** "fleet", "group:NAME" or "server". */
  origin: string;
}

export type KeyLevel = { kind: 'fleet' } | { kind: 'group'; name: string } | { kind: 'server'; name: string };

export function levelName(level: KeyLevel): string {
  return level.kind === 'fleet' ? 'fleet' : `${level.kind}:${level.name}`;
}

/** The keys declared at one level (not merged). */
export function levelKeys(inventory: Inventory, level: KeyLevel): SshKey[] {
  if (level.kind === 'fleet') return inventory.ssh_keys ?? [];
  if (level.kind === 'group') return inventory.groups?.[level.name]?.ssh_keys ?? [];
  return inventory.servers?.[level.name]?.ssh_keys ?? [];
}

export function mergedKeys(inventory: Inventory, serverName: string, resolution: GroupResolution): EffectiveKey[] {
  const keys = new Map<string, EffectiveKey>();
  const apply = (layer: readonly SshKey[] | undefined, origin: string) => {
    for (const key of layer ?? []) keys.set(key.name, { name: key.name, key: key.key, origin });
  };
  apply(inventory.ssh_keys, 'fleet');
  for (const group of orderedGroups(inventory, serverName, resolution)) apply(inventory.groups?.[group]?.ssh_keys, `group:${group}`);
  apply(inventory.servers?.[serverName]?.ssh_keys, 'server');
  return [...keys.values()];
}

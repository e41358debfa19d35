/**
 * Rules for `ssh_keys:` lists at every level (fleet, groups, servers): each key is a well-formed
 * OpenSSH public key line, and a name appears once per list. Pure: an inventory value in,
 * findings out.
 */
import { KEY_TYPES, parsePublicKey } from '../keys/public-key.js';
import type { FindingInput } from './findings.js';
import type { Inventory, SshKey } from './schema.js';

function checkList(keys: readonly SshKey[] | undefined, base: (string | number)[]): FindingInput[] {
  const findings: FindingInput[] = [];
  const names = new Map<string, number>();
  const materials = new Map<string, number>();
  keys?.forEach((entry, index) => {
    const firstName = names.get(entry.name);
    if (firstName !== undefined) {
      findings.push({
        severity: 'error', code: 'duplicate-ssh-key-name', path: [...base, index, 'name'],
        message: `key name "${entry.name}" is already used by ssh_keys[${firstName}] at this level`,
        hint: 'give each key its own name; to override a key from a lower level, use its name at a more specific level',
      });
    } else names.set(entry.name, index);
    const parsed = parsePublicKey(entry.key);
    if (!parsed.ok) {
      findings.push({
        severity: 'error', code: 'invalid-ssh-key', path: [...base, index, 'key'],
        message: `malformed SSH public key "${entry.name}": ${parsed.reason}`,
        expected: `an OpenSSH public key line "TYPE BASE64 [COMMENT]", TYPE one of ${KEY_TYPES.join(', ')}`,
        hint: 'copy the whole line of the .pub file, e.g. `cat ~/.ssh/id_ed25519.pub`',
      });
      return;
    }
    const material = `${parsed.key.type} ${parsed.key.base64}`;
    const firstKey = materials.get(material);
    if (firstKey !== undefined) {
      findings.push({
        severity: 'warning', code: 'duplicate-ssh-key', path: [...base, index, 'key'],
        message: `key "${entry.name}" is the same key as ssh_keys[${firstKey}] at this level`,
      });
    } else materials.set(material, index);
  });
  return findings;
}

export function checkSshKeys(inventory: Inventory): FindingInput[] {
  return [
    ...checkList(inventory.ssh_keys, ['ssh_keys']),
    ...Object.entries(inventory.groups ?? {}).flatMap(([name, group]) => checkList(group?.ssh_keys, ['groups', name, 'ssh_keys'])),
    ...Object.entries(inventory.servers ?? {}).flatMap(([name, server]) => checkList(server?.ssh_keys, ['servers', name, 'ssh_keys'])),
  ];
}

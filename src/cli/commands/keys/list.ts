import { z } from 'zod';
import { resolveGroups, selectServers } from '../../../inventory/groups.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { mergedKeys } from '../../../keys/merge.js';
import { fingerprint, parsePublicKey } from '../../../keys/public-key.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption, onOption } from '../inventory/shared.js';

export const keysListCommand = defineCommand({
  path: ['keys', 'list'],
  summary: 'the SSH keys each server gets, and the level each comes from',
  help: [
    'Keys merge fleet < groups (by priority, then name) < server; a key name at a more specific',
    'level replaces the same name from a lower one. FROM says which level won.',
    '',
    'Examples:',
    '  cistern keys list',
    '  cistern keys list --on group:family --json',
  ].join('\n'),
  options: [fileOption, onOption],
  input: z.object({ ...fileInput, on: z.string().optional() }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const resolution = resolveGroups(analysis.inventory);
    const data = selectServers(analysis.inventory, input.on, resolution).map((server) => ({
      server,
      keys: mergedKeys(analysis.inventory, server, resolution).map((k) => {
        const parsed = parsePublicKey(k.key);
        return {
          name: k.name,
          origin: k.origin,
          type: parsed.ok ? parsed.key.type : null,
          fingerprint: parsed.ok ? fingerprint(parsed.key.blob) : null,
          comment: parsed.ok ? parsed.key.comment : null,
          key: k.key,
        };
      }),
    }));
    if (data.length === 0) return { data, text: 'no servers match\n' };
    const rows = data.flatMap((s) => (s.keys.length === 0
      ? [[s.server, '(no keys)', '-', '-', '-', '-']]
      : s.keys.map((k) => [s.server, k.name, k.origin, k.type ?? '?', k.fingerprint ?? '?', k.comment || '-'])));
    return { data, text: table(['SERVER', 'KEY', 'FROM', 'TYPE', 'FINGERPRINT', 'COMMENT'], rows) };
  },
});

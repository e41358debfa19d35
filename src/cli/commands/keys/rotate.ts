import { z } from 'zod';
import { resolveGroups, selectServers } from '../../../inventory/groups.js';
import { editInventory } from '../../../inventory/store.js';
import { levelName, mergedKeys } from '../../../keys/merge.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, onOption } from '../inventory/shared.js';
import { runSync, syncOutput, syncTargets } from './run-sync.js';
import { checkedKey, levelFrom, levelInput, levelOptions, notFound, rawLevelKeys, requireLevel, SYNC_HELP, syncInput, syncOptions } from './shared.js';

export const keysRotateCommand = defineCommand({
  path: ['keys', 'rotate'],
  summary: 'replace the content of a key, keeping its name, then sync the servers that get it',
  help: [
    'Changes the key in inventory.yaml, then syncs every server whose merged keys hold this key',
    'from this level (narrowed by --on); --no-sync only edits. Running it again retries the',
    'servers a failed sync left behind.',
    '',
    SYNC_HELP,
    '',
    'Example:',
    '  cistern keys rotate alice-laptop --key "$(cat ~/.ssh/id_ed25519_new.pub)" --identity ~/.ssh/admin',
  ].join('\n'),
  args: [{ name: 'name', description: 'key name' }],
  options: [
    fileOption, { flags: '-k, --key <line>', description: 'the new public key line: TYPE BASE64 [COMMENT]' }, ...levelOptions,
    onOption, ...syncOptions, { flags: '--no-sync', description: 'only edit inventory.yaml' },
  ],
  input: z.object({
    ...fileInput, ...levelInput, ...syncInput,
    name: z.string(),
    key: z.string({ error: 'required: the new public key line' }),
    on: z.string().optional(),
    sync: z.boolean().default(true),
  }),
  async handler(input, ctx) {
    const level = levelFrom(input);
    const key = checkedKey(input.key);
    const file = fileFrom(input, ctx);
    const edit = await editInventory(file, (data, current) => {
      requireLevel(current, level);
      const entry = (rawLevelKeys(data, level, false) ?? []).find((k) => k.name === input.name);
      if (!entry) throw notFound(current, input.name, level);
      entry.key = key;
    });
    const edited = `${edit.changed ? 'rotated' : 'already had this content:'} key ${input.name} at the ${levelName(level)} level of ${file}`;
    const summary = { file, level: levelName(level), name: input.name, key, changed: edit.changed };
    if (!input.sync) return { data: { ...summary, synced: false }, text: `${edited}; run \`cistern keys sync\` to install it` };

    const analysis = edit.analysis;
    const resolution = resolveGroups(analysis.inventory);
    const origin = level.kind === 'server' ? 'server' : levelName(level);
    const holders = selectServers(analysis.inventory, input.on, resolution)
      .filter((server) => level.kind !== 'server' || server === level.name)
      .filter((server) => mergedKeys(analysis.inventory, server, resolution).some((k) => k.name === input.name && k.origin === origin));
    const report = await runSync(syncTargets(analysis, holders), input, ctx);
    return syncOutput(report, ctx, { ...summary, synced: true }, `${edited}\n`);
  },
});

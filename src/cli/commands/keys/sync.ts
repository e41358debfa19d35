import { z } from 'zod';
import { selectServers } from '../../../inventory/groups.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, onOption } from '../inventory/shared.js';
import { runSync, syncOutput, syncTargets } from './run-sync.js';
import { SYNC_HELP, syncInput, syncOptions } from './shared.js';

export const keysSyncCommand = defineCommand({
  path: ['keys', 'sync'],
  summary: 'install the inventory\'s SSH keys on the servers, through their agents or over SSH',
  help: [
    SYNC_HELP,
    '',
    'Examples:',
    '  cistern keys sync',
    '  cistern keys sync --on tag:tv --identity ~/.ssh/admin_ed25519 --timeout 5s --json',
    '  cistern keys sync --on new-box --via ssh --identity ~/.ssh/admin_ed25519',
  ].join('\n'),
  options: [fileOption, onOption, ...syncOptions],
  input: z.object({ ...fileInput, on: z.string().optional(), ...syncInput }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const targets = syncTargets(analysis, selectServers(analysis.inventory, input.on));
    return syncOutput(await runSync(targets, input, ctx), ctx, { file: analysis.file });
  },
});

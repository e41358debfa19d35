import { z } from 'zod';
import { CisternError } from '../../../errors.js';
import { editInventory, loadValidInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, rawServers, requireServer } from './shared.js';

export const removeCommand = defineCommand({
  path: ['inventory', 'remove'],
  summary: 'remove a server (asks for confirmation unless --yes)',
  help: 'A server that a service or group still names cannot be removed: the inventory would not validate.',
  args: [{ name: 'name', description: 'server name' }],
  options: [fileOption, { flags: '-y, --yes', description: 'do not ask for confirmation' }],
  input: z.object({ ...fileInput, name: z.string(), yes: z.boolean().optional() }),
  async handler(input, ctx) {
    const file = fileFrom(input, ctx);
    requireServer(await loadValidInventory(file), input.name);
    if (!input.yes) {
      if (!ctx.interactive) {
        throw new CisternError('E_CONFIRM', `removing server "${input.name}" needs confirmation`, { exitCode: 2, hint: 'pass --yes' });
      }
      const answer = await ctx.prompt(`remove server ${input.name} from ${file}? [y/N] `);
      if (!/^y(es)?$/i.test(answer)) throw new CisternError('E_CONFIRM', 'not removed', { hint: 'answer "y" to remove' });
    }
    await editInventory(file, (data, current) => {
      requireServer(current, input.name);
      delete rawServers(data)[input.name];
    });
    return { data: { file, server: input.name, removed: true }, text: `removed server ${input.name} from ${file}` };
  },
});

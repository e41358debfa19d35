import { z } from 'zod';
import { editInventory } from '../../../inventory/store.js';
import { levelName } from '../../../keys/merge.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption } from '../inventory/shared.js';
import { dropEmptyKeys, levelFrom, levelInput, levelOptions, notFound, rawLevelKeys, requireLevel } from './shared.js';

export const keysRemoveCommand = defineCommand({
  path: ['keys', 'remove'],
  summary: 'remove an SSH key from the inventory (fleet, group or server level)',
  help: [
    'Edits inventory.yaml only; `cistern keys sync` then removes the key from the servers\' managed',
    'block. A key of the same name at a lower level applies again where this one overrode it.',
    '',
    'Example:',
    '  cistern keys remove old-laptop && cistern keys sync',
  ].join('\n'),
  args: [{ name: 'name', description: 'key name' }],
  options: [fileOption, ...levelOptions],
  input: z.object({ ...fileInput, ...levelInput, name: z.string() }),
  async handler(input, ctx) {
    const level = levelFrom(input);
    const file = fileFrom(input, ctx);
    await editInventory(file, (data, current) => {
      requireLevel(current, level);
      const keys = rawLevelKeys(data, level, false) ?? [];
      const index = keys.findIndex((k) => k.name === input.name);
      if (index === -1) throw notFound(current, input.name, level);
      keys.splice(index, 1);
      dropEmptyKeys(data, level);
    });
    return {
      data: { file, level: levelName(level), name: input.name, removed: true },
      text: `removed key ${input.name} from the ${levelName(level)} level of ${file}; run \`cistern keys sync\` to remove it from the servers`,
    };
  },
});

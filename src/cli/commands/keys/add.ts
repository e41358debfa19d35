import { z } from 'zod';
import { CisternError } from '../../../errors.js';
import { NAME } from '../../../inventory/schema.js';
import { editInventory } from '../../../inventory/store.js';
import { levelName } from '../../../keys/merge.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption } from '../inventory/shared.js';
import { checkedKey, levelFrom, levelInput, levelOptions, rawLevelKeys, requireLevel } from './shared.js';

export const keysAddCommand = defineCommand({
  path: ['keys', 'add'],
  summary: 'add an SSH public key to the inventory (fleet, group or server level)',
  help: [
    'Edits inventory.yaml only; `cistern keys sync` installs the keys on the servers.',
    'A name already used at a lower level is overridden for the servers of this level.',
    '',
    'Examples:',
    '  cistern keys add alice-laptop --key "$(cat ~/.ssh/id_ed25519.pub)"',
    '  cistern keys add backup --key "ssh-ed25519 AAAA... backup@nas" --group family',
  ].join('\n'),
  args: [{ name: 'name', description: 'key name (letters, digits, ., _ and -)' }],
  options: [fileOption, { flags: '-k, --key <line>', description: 'the public key line: TYPE BASE64 [COMMENT]' }, ...levelOptions],
  input: z.object({
    ...fileInput, ...levelInput,
    name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-", not starting or ending with punctuation'),
    key: z.string({ error: 'required: the public key line' }),
  }),
  async handler(input, ctx) {
    const level = levelFrom(input);
    const key = checkedKey(input.key);
    const file = fileFrom(input, ctx);
    await editInventory(file, (data, current) => {
      requireLevel(current, level);
      const keys = rawLevelKeys(data, level, true) ?? [];
      if (keys.some((k) => k.name === input.name)) {
        throw new CisternError('E_KEY_EXISTS', `a key named "${input.name}" already exists at the ${levelName(level)} level in ${file}`, {
          hint: `replace its content with \`cistern keys rotate ${input.name} --key ...\`, or pick another name`,
        });
      }
      keys.push({ name: input.name, key });
    });
    return {
      data: { file, level: levelName(level), name: input.name, key },
      text: `added key ${input.name} at the ${levelName(level)} level of ${file}; run \`cistern keys sync\` to install it`,
    };
  },
});

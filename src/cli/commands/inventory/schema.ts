import { z } from 'zod';
import { inventoryJsonSchema } from '../../../inventory/schema.js';
import { defineCommand } from '../../command.js';

export const schemaCommand = defineCommand({
  path: ['inventory', 'schema'],
  summary: 'print the JSON Schema of inventory.yaml, for editors',
  help: [
    'For completion and checks in editors that use yaml-language-server (VS Code\'s YAML',
    'extension, Neovim, Helix), save the schema and point the file at it with a first line:',
    '',
    '  cistern inventory schema > cistern.schema.json',
    '  # yaml-language-server: $schema=./cistern.schema.json',
  ].join('\n'),
  json: false,
  input: z.object({}),
  async handler() {
    const schema = inventoryJsonSchema();
    return { data: schema, text: `${JSON.stringify(schema, null, 2)}\n` };
  },
});

import { stringify } from 'yaml';
import { z } from 'zod';
import { resolveGroups } from '../../../inventory/groups.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { mergedVars } from '../../../inventory/vars.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, requireServer } from './shared.js';

export const showCommand = defineCommand({
  path: ['inventory', 'show'],
  summary: 'show one server: its fields, groups and merged variables',
  args: [{ name: 'name', description: 'server name' }],
  options: [fileOption],
  input: z.object({ ...fileInput, name: z.string() }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const server = requireServer(analysis, input.name);
    const resolution = resolveGroups(analysis.inventory);
    const groups = [...(resolution.membership.get(input.name) ?? [])].sort();
    const { vars, origin } = mergedVars(analysis.inventory, input.name, resolution);
    const data = { name: input.name, address: server.address ?? server.hostname, ...server, groups, vars, vars_origin: origin };
    const text = stringify({ [input.name]: { ...server, groups, 'vars (merged)': vars } }, { lineWidth: 0 });
    return { data, text };
  },
});

import { z } from 'zod';
import { resolveGroups } from '../../../inventory/groups.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption } from './shared.js';

export const groupsCommand = defineCommand({
  path: ['inventory', 'groups'],
  summary: 'list groups with their resolved members',
  help: 'A group\'s members are the servers it names under `members:` plus those its `selector:` matches.',
  options: [fileOption],
  input: z.object({ ...fileInput }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const resolution = resolveGroups(analysis.inventory);
    const data = Object.entries(analysis.inventory.groups ?? {}).map(([name, group]) => ({
      name,
      description: group?.description ?? null,
      priority: group?.priority ?? 0,
      selector: group?.selector ?? null,
      members: resolution.members.get(name) ?? [],
      vars: Object.keys(group?.vars ?? {}),
    }));
    const text = data.length === 0
      ? 'no groups defined\n'
      : table(['GROUP', 'PRIORITY', 'SELECTOR', 'MEMBERS'], data.map((g) => [g.name, String(g.priority), g.selector ?? '-', g.members.join(', ') || '(none)']));
    return { data, text };
  },
});

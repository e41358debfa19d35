import { z } from 'zod';
import { resolveGroups } from '../../../inventory/groups.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { renderTemplate } from '../../../inventory/templates.js';
import { mergedVars } from '../../../inventory/vars.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, requireServer } from './shared.js';

export const renderCommand = defineCommand({
  path: ['inventory', 'render'],
  summary: 'render a template for one server',
  help: [
    'Templates use Liquid syntax: {{ variable }}, {% if %}, {% for %}, filters such as | upcase.',
    'Variables merge with this precedence, lowest first:',
    '  1. fleet   top-level vars:',
    '  2. groups  each group\'s vars:, ordered by priority (default 0, lower first), then by name;',
    '             a later group overrides an earlier one',
    '  3. server  the server\'s own vars:',
    'Also defined: server (its fields, with name and address) and groups (its group names).',
    'A variable that is not defined is an error. Templates cannot run code or read files.',
    '',
    'Example:',
    '  cistern inventory render motd --server eden',
  ].join('\n'),
  args: [{ name: 'template', description: 'template name (under templates:)' }],
  options: [fileOption, { flags: '-s, --server <name>', description: 'server to render for (required)' }],
  input: z.object({ ...fileInput, template: z.string(), server: z.string({ error: 'required: the server to render for' }) }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const server = requireServer(analysis, input.server);
    const resolution = resolveGroups(analysis.inventory);
    const { vars, origin } = mergedVars(analysis.inventory, input.server, resolution);
    const groups = [...(resolution.membership.get(input.server) ?? [])].sort();
    const scope = { ...vars, server: { ...server, name: input.server, address: server.address ?? server.hostname }, groups };
    const output = await renderTemplate(analysis.inventory, input.template, scope);
    return { data: { template: input.template, server: input.server, output, vars, vars_origin: origin }, text: output };
  },
});

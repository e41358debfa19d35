import { parse as parseYamlValue } from 'yaml';
import { z } from 'zod';
import { usageError } from '../../../errors.js';
import { editInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, rawServers, requireServer } from './shared.js';

interface Assignment { path: (string | number)[]; value?: unknown; unset: boolean; text: string }

export function parseAssignment(text: string, unset = false): Assignment {
  const eq = text.indexOf('=');
  const pathText = unset ? text : text.slice(0, eq);
  if (!unset && eq <= 0) throw usageError(`"${text}" is not PATH=VALUE`, 'example: cistern inventory set eden location=attic');
  const path = pathText.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  if (path.some((p) => p === '')) throw usageError(`"${pathText}" is not a field path`, 'paths are dot-separated: ssh.port, labels.owner, storage.0.size');
  if (path[0] === 'status') throw usageError('status is machine-owned: Cistern writes it', 'edit the other fields; status is overwritten');
  // Values are YAML: 2222 is a number, true a boolean, [a, b] a list; quote to keep a string.
  const value = unset ? undefined : parseYamlValue(text.slice(eq + 1) === '' ? '""' : text.slice(eq + 1));
  return { path, value, unset, text };
}

function apply(target: Record<string, unknown>, { path, value, unset, text }: Assignment): void {
  let node: unknown = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number;
    const container = node as Record<string | number, unknown>;
    if (container[key] === undefined || container[key] === null) {
      if (unset) return;
      container[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = container[key];
    if (node === null || typeof node !== 'object') throw usageError(`${text}: ${path.slice(0, i + 1).join('.')} is not a map or list`);
  }
  const last = path[path.length - 1] as string | number;
  if (unset) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete (node as Record<string | number, unknown>)[last];
  } else (node as Record<string | number, unknown>)[last] = value;
}

export const setCommand = defineCommand({
  path: ['inventory', 'set'],
  summary: 'change fields of a server, with validation',
  help: [
    'PATH is a dot-separated field path in the server; VALUE is read as YAML.',
    'Nothing is written when the result would not validate.',
    '',
    'Examples:',
    '  cistern inventory set eden location=attic ssh.port=2222',
    '  cistern inventory set eden labels.owner=mum --unset notes',
  ].join('\n'),
  args: [
    { name: 'name', description: 'server name' },
    { name: 'assignments', description: 'PATH=VALUE pairs', variadic: true, required: false },
  ],
  options: [fileOption, { flags: '--unset <path...>', description: 'remove fields' }],
  input: z.object({ ...fileInput, name: z.string(), assignments: z.array(z.string()).default([]), unset: z.array(z.string()).default([]) }),
  async handler(input, ctx) {
    const assignments = [...input.assignments.map((a) => parseAssignment(a)), ...input.unset.map((a) => parseAssignment(a, true))];
    if (assignments.length === 0) throw usageError('nothing to set', 'give PATH=VALUE pairs or --unset PATH');
    const file = fileFrom(input, ctx);
    const result = await editInventory(file, (data, current) => {
      requireServer(current, input.name);
      const server = rawServers(data)[input.name] as Record<string, unknown>;
      for (const assignment of assignments) apply(server, assignment);
    });
    const changes = assignments.map((a) => (a.unset ? { path: a.path.join('.'), unset: true } : { path: a.path.join('.'), value: a.value }));
    return {
      data: { file, server: input.name, changed: result.changed, changes },
      text: result.changed ? `updated ${input.name}: ${assignments.map((a) => a.text).join(' ')}` : `${input.name}: already so, nothing written`,
    };
  },
});

/**
 * `cistern server set-services NAME --file FILE`: tells a server's agent which services to
 * supervise (probe, restart, fail over) and whether to run them, through the `set-services`
 * command. Until placement sends it by itself, this is how an admin (or a test) does it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { CisternError } from '../../../errors.js';
import { CATALOG } from '../../../services/catalog.js';
import { SET_SERVICES, setServicesArgsSchema, type SetServicesResult } from '../../../supervisor/index.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { api } from './shared.js';

export const serverSetServicesCommand = defineCommand({
  path: ['server', 'set-services'],
  summary: 'tell a server\'s agent which services to supervise, and whether to run them',
  help: [
    'FILE (YAML or JSON) lists every service the agent should supervise; one it stops listing is stopped:',
    '  services:',
    '    - name: jellyfin          # a catalog service: its definition comes from the catalog',
    '      run: true',
    '    - name: transmission',
    '      run: true',
    '      driver: process         # or systemd (the agent\'s --service-driver by default)',
    '      process: { argv: [/usr/bin/transmission-daemon, -f, --config-dir, /var/lib/transmission] }',
    '      supervision: { interval_ms: 5000, failure_threshold: 3, restart_budget: { restarts: 5, window_ms: 1800000 } }',
    'Custom services give a whole `definition`. See docs/supervision.md.',
  ].join('\n'),
  args: [{ name: 'name', description: 'server name' }],
  options: [
    { flags: '-f, --file <file>', description: 'the services, YAML or JSON' },
    { flags: '--timeout <ms>', description: 'how long to wait for the agent', default: '30000' },
  ],
  input: z.object({ name: z.string(), file: z.string({ error: '--file is required' }), timeout: z.coerce.number().int().positive().max(600_000) }),
  async handler(input, ctx) {
    const path = resolve(ctx.cwd, input.file);
    const args = parseServicesFile(await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CisternError('E_FILE_READ', `cannot read ${path}: ${error.code ?? error.message}`, { cause: error });
    }), path);
    const result = await (await api(ctx)).post<{ ok: boolean; data: SetServicesResult | null; error: string | null }>(
      `/v1/servers/${encodeURIComponent(input.name)}/commands`, { name: SET_SERVICES, args, timeoutMs: input.timeout }, { timeoutMs: input.timeout + 5_000 });
    if (!result.ok || !result.data) return { data: result, text: `${input.name}: ${result.error ?? 'failed'}`, exitCode: 1 };
    const rows = result.data.services.map((s) => [s.name, s.run ? 'yes' : 'no', s.driver, s.state, s.detail]);
    return { data: result, text: rows.length === 0 ? `${input.name} supervises no services now` : table(['SERVICE', 'RUN', 'DRIVER', 'STATE', 'DETAIL'], rows) };
  },
});

/** The file's services, each catalog service without a `definition` given the catalog's; checked as the agent will. */
export function parseServicesFile(text: string, path: string): z.infer<typeof setServicesArgsSchema> {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new CisternError('E_BAD_REQUEST', `${path}: not YAML or JSON: ${(error as Error).message}`);
  }
  if (value && typeof value === 'object' && Array.isArray((value as { services?: unknown }).services)) {
    for (const entry of (value as { services: unknown[] }).services) {
      if (!entry || typeof entry !== 'object') continue;
      const e = entry as Record<string, unknown>;
      const known = CATALOG.find((s) => s.name === e.name);
      if (e.definition === undefined && known) e.definition = known;
    }
  }
  const parsed = setServicesArgsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CisternError('E_BAD_REQUEST', `${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

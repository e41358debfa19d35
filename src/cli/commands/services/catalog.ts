import { z } from 'zod';
import { isCisternError } from '../../../errors.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { CATALOG } from '../../../services/catalog.js';
import { resolveServices, type ResolvedService } from '../../../services/resolve.js';
import type { Probe, StatusProbe } from '../../../services/schema.js';
import { defineCommand } from '../../command.js';
import type { CommandContext } from '../../context.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption } from '../inventory/shared.js';

function describeProbe(probe: Probe | StatusProbe | null | undefined, port: number | undefined): string {
  if (!probe) return '-';
  if (probe.kind === 'http') return `${probe.method ?? 'GET'} ${probe.path}`;
  if (probe.kind === 'tcp') return `tcp :${probe.port ?? port ?? '?'}`;
  return probe.argv.join(' ');
}

function describeKey(probe: StatusProbe | null | undefined): string {
  const auth = probe?.auth;
  if (!auth) return '-';
  return auth.kind === 'basic' ? 'basic auth' : `${auth.kind} ${auth.name}`;
}

export function renderServices(services: readonly ResolvedService[]): string {
  return table(
    ['NAME', 'PORT', 'PROBE', 'KEY', 'STATE', 'SINGLE', 'NEEDS', 'UNIT', 'SOURCE'],
    services.map((s) => [
      s.name, String(s.port ?? '-'), describeProbe(s.probe, s.port), describeKey(s.status_probe),
      s.state_dir ?? '-', s.single_writer ? 'yes' : 'no',
      `${s.needs.memory_mb} MB, ${s.needs.cpu} cpu, ${s.needs.disk_gb} GB`,
      s.systemd_unit, s.source,
    ]),
  );
}

/** The inventory's services when one is named or present; the bare catalog when none exists. */
async function effectiveServices(input: { file?: string | undefined }, ctx: CommandContext): Promise<{ from: string | null; services: ResolvedService[] }> {
  const explicit = input.file !== undefined || ctx.env.CISTERN_INVENTORY !== undefined;
  const file = fileFrom(input, ctx);
  try {
    const analysis = await loadValidInventory(file);
    return { from: analysis.file, services: resolveServices(analysis.inventory) };
  } catch (error) {
    if (explicit || !isCisternError(error) || error.code !== 'E_FILE_NOT_FOUND') throw error;
    return { from: null, services: resolveServices({}) };
  }
}

export const servicesCatalogCommand = defineCommand({
  path: ['services', 'catalog'],
  summary: 'list the service definitions: the catalog, with the inventory\'s overrides and custom services',
  help: [
    `The catalog knows ${CATALOG.map((s) => s.name).join(', ')}.`,
    'Fields under `services:` in inventory.yaml override them; other names there are custom services.',
    'Without an inventory file the built-in catalog is listed.',
    '',
    'Examples:',
    '  cistern services catalog',
    '  cistern services catalog --file fleet.yaml --json',
  ].join('\n'),
  options: [fileOption],
  input: z.object({ ...fileInput }),
  async handler(input, ctx) {
    const { from, services } = await effectiveServices(input, ctx);
    const origin = from === null ? 'built-in catalog (no inventory file found)' : `services of ${from}`;
    return { data: services, text: `${origin}\n${renderServices(services)}` };
  },
});

import { z } from 'zod';
import { SCRAPES, SCRAPE_LABEL, type SdGroup } from '../../../monitoring/targets.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { api } from '../fleet/shared.js';

export interface TargetRow { job: string; target: string; server: string; labels: Record<string, string> }

export function targetRows(groups: readonly SdGroup[]): TargetRow[] {
  return groups.flatMap((g) => g.targets.map((target) => {
    const labels = Object.fromEntries(Object.entries(g.labels).filter(([k]) => !k.startsWith('__') && k !== 'job' && k !== 'server'));
    return { job: g.labels.job ?? g.labels[SCRAPE_LABEL] ?? '', target, server: g.labels.server ?? '-', labels };
  }));
}

export const monitoringTargetsCommand = defineCommand({
  path: ['monitoring', 'targets'],
  summary: 'list what Prometheus scrapes: the controller\'s service discovery',
  help: 'Example: cistern monitoring targets --scrape cistern-agent\nWith --json, the groups exactly as Prometheus gets them (http_sd format).',
  options: [{ flags: '--scrape <kind>', description: `only one kind: ${SCRAPES.join(', ')}` }],
  input: z.object({ scrape: z.enum(SCRAPES).optional() }),
  async handler(input, ctx) {
    const groups = await (await api(ctx)).get<SdGroup[]>(`/v1/sd/targets${input.scrape ? `?scrape=${input.scrape}` : ''}`);
    const rows = targetRows(groups);
    const text = rows.length === 0 ? 'no targets: register a server or add servers to the inventory\n' : table(['JOB', 'TARGET', 'SERVER', 'LABELS'],
      rows.map((r) => [r.job, r.target, r.server, Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ') || '-']));
    return { data: groups, text };
  },
});

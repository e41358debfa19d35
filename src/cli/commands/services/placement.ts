import { z } from 'zod';
import type { FiringAlert } from '../../../controller/alerts.js';
import type { ServiceView, PushResult } from '../../../controller/services/manager.js';
import type { Promotion } from '../../../controller/services/failover.js';
import type { PlanResult } from '../../../placement/index.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { api } from '../fleet/shared.js';

function renderPlan(result: PlanResult, pushed?: PushResult[]): string {
  const lines: string[] = [];
  if (result.moves.length === 0) lines.push('no changes: every service runs where the plan wants it');
  else lines.push(table(['SERVICE', 'ROLE', 'FROM', 'TO', 'WHY'], result.moves.map((m) => [m.service, m.role, m.from ?? '-', m.to ?? '-', m.why])).trimEnd());
  for (const u of result.unplaceable) lines.push(`unplaceable: ${u.reason}`);
  for (const c of result.conflicts) lines.push(`pin not honoured: ${c.service} ${c.role} on ${c.server}: ${c.reason}`);
  for (const e of result.errors) lines.push(`error: ${e.service}: ${e.reason}`);
  for (const p of pushed ?? []) if (!p.ok) lines.push(`could not tell ${p.server}: ${p.error ?? 'refused'}`);
  return `${lines.join('\n')}\n`;
}

/** `eden:healthy(4.0.15)`: each server's status verdict, with the version the app reported. */
function statusCell(s: ServiceView): string {
  return Object.entries(s.status ?? {}).map(([server, st]) => `${server}:${st.verdict}${st.version ? `(${st.version})` : ''}`).join(' ') || '-';
}

/** A line for each status that is not healthy: the table has no room for the detail. */
function statusNotes(services: readonly ServiceView[]): string {
  const notes = services.flatMap((s) => Object.entries(s.status ?? {})
    .filter(([, st]) => st.verdict !== 'healthy')
    .map(([server, st]) => `${s.name} on ${server}: status ${st.verdict}: ${st.detail}\n`));
  return notes.join('');
}

/** The `services show` table, then a line for each status probe that is not healthy. */
export function renderServices(services: readonly ServiceView[]): string {
  if (services.length === 0) return 'no placed services: declare them under services: in inventory.yaml\n';
  return `${table(
    ['SERVICE', 'PRIMARY', 'REPLICAS', 'EPOCH', 'HEALTH', 'STATUS', 'WHY'],
    services.map((s) => [
      s.name, s.primary ?? '-', s.replicas.join(',') || '-', s.singleWriter ? String(s.epoch) : '-',
      Object.entries(s.health).map(([server, state]) => `${server}:${state}`).join(' ') || '-',
      statusCell(s),
      s.unplaceable ?? s.reasons.find((r) => r.role === 'primary')?.reason ?? '-',
    ]),
  )}${statusNotes(services)}`;
}

export const servicesShowCommand = defineCommand({
  path: ['services', 'show'],
  summary: 'where each service runs: primary, replicas, health and status on each, and why it was placed there',
  help: 'HEALTH is the cheap probe\'s state on each server; STATUS what the authenticated status probe last said, where the agent has the service\'s key (`cistern agent --help`), with the version the app reports.',
  input: z.object({}),
  async handler(_input, ctx) {
    const { services } = await (await api(ctx)).get<{ services: ServiceView[] }>('/v1/services');
    return { data: services, text: renderServices(services) };
  },
});

export const servicesPlanCommand = defineCommand({
  path: ['services', 'plan'],
  summary: 'what `services apply` would change, and why (changes nothing)',
  input: z.object({}),
  async handler(_input, ctx) {
    const result = await (await api(ctx)).get<PlanResult>('/v1/services/plan');
    return { data: result, text: renderPlan(result), exitCode: result.errors.length > 0 ? 1 : 0 };
  },
});

export const servicesApplyCommand = defineCommand({
  path: ['services', 'apply'],
  summary: 'make the plan the placement in force and tell the agents which services to run or stop',
  input: z.object({}),
  async handler(_input, ctx) {
    const result = await (await api(ctx)).post<PlanResult & { pushed: PushResult[] }>('/v1/services/apply', {});
    return { data: result, text: renderPlan(result, result.pushed), exitCode: result.pushed.some((p) => !p.ok) ? 1 : 0 };
  },
});

export const servicesMoveCommand = defineCommand({
  path: ['services', 'move'],
  summary: 'run a service\'s primary on a server of your choice (outranks the inventory\'s pin)',
  help: 'Example: cistern services move jellyfin --to eden. A single-writer service gets a new epoch, and its old primary stops it.',
  args: [{ name: 'service', description: 'the service to move' }],
  options: [{ flags: '--to <server>', description: 'the server to run its primary on' }],
  input: z.object({ service: z.string(), to: z.string({ error: '--to SERVER is required' }) }),
  async handler(input, ctx) {
    const result = await (await api(ctx)).post<PlanResult & { pushed: PushResult[] }>(`/v1/services/${encodeURIComponent(input.service)}/move`, { to: input.to });
    return { data: result, text: renderPlan(result, result.pushed) };
  },
});

export const failoverCommand = defineCommand({
  path: ['failover'],
  summary: 'promote a replica of a service now (default: the first on a healthy server)',
  help: 'Example: cistern failover sonarr --to ocean. The service gets a new epoch; the old primary stops its copy when it sees it.',
  args: [{ name: 'service', description: 'the service to fail over' }],
  options: [{ flags: '--to <server>', description: 'the replica to promote' }],
  input: z.object({ service: z.string(), to: z.string().optional() }),
  async handler(input, ctx) {
    const result = await (await api(ctx)).post<Promotion & { epoch: number }>(`/v1/services/${encodeURIComponent(input.service)}/failover`, input.to ? { to: input.to } : {});
    return { data: result, text: `${result.service}: ${result.from ?? '-'} → ${result.to} (epoch ${result.epoch})\n` };
  },
});

export const alertsCommand = defineCommand({
  path: ['alerts'],
  summary: 'the alerts firing now, as the controller sees them: servers down, services down, failed or unplaceable',
  help: 'Exits 1 when any alert fires, so scripts can check the fleet. Prometheus\'s own alerts are in Alertmanager.',
  input: z.object({}),
  async handler(_input, ctx) {
    const { alerts } = await (await api(ctx)).get<{ alerts: FiringAlert[] }>('/v1/alerts');
    const text = alerts.length === 0 ? 'no alerts firing\n' : table(['SEVERITY', 'ALERT', 'SERVER', 'SERVICE', 'SUMMARY'], alerts.map((a) => [a.severity, a.name, a.server ?? '-', a.service ?? '-', a.summary]));
    return { data: alerts, text, exitCode: alerts.length > 0 ? 1 : 0 };
  },
});

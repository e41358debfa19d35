/** What the fleet commands share: the API client from the CLI's config, and formatting. */
import type { FiringAlert } from '../../../controller/alerts.js';
import type { ServerView } from '../../../controller/core.js';
import type { ServiceView } from '../../../controller/services/manager.js';
import { describeMount } from '../../../storage/health.js';
import { apiClient, type ApiClient } from '../../client/api.js';
import { loadClientConfig } from '../../client/config.js';
import { paint, type CommandContext, type Style } from '../../context.js';
import { table } from '../../table.js';

export async function api(ctx: CommandContext): Promise<ApiClient> {
  return apiClient(await loadClientConfig(ctx.env));
}

const HEALTH_STYLE: Record<string, Style> = {
  healthy: 'green', suspect: 'yellow', degraded: 'yellow', unreachable: 'red', down: 'red', unknown: 'dim',
  // Service probe states
  starting: 'yellow', unhealthy: 'red', failed: 'red', misconfigured: 'yellow', stopped: 'dim',
};

export function paintHealth(ctx: Pick<CommandContext, 'color'>, health: string): string {
  return paint(ctx, HEALTH_STYLE[health] ?? 'reset', health);
}

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : s < 86_400 ? `${Math.floor(s / 3600)}h ago` : `${Math.floor(s / 86_400)}d ago`;
}

export function renderStatus(servers: readonly ServerView[], ctx: Pick<CommandContext, 'color'>, now = Date.now()): string {
  if (servers.length === 0) return 'no servers yet: add one with `cistern token create`\n';
  const pct = (n: number | undefined) => (n === undefined ? '-' : `${Math.round(n)}%`);
  // Unhealthy mounts (stale, hung, not mounted) under the table: placement keeps media services off those boxes.
  const mounts = servers.flatMap((s) => (s.mounts ?? []).filter((m) => !m.healthy).map((m) => `${paint(ctx, 'red', 'mount')} ${s.name}: ${describeMount(m)}\n`));
  return table(
    ['NAME', 'ADDRESS', 'PROFILE', 'HEALTH', 'LAST SEEN', 'CPU', 'MEM', 'DISK', 'SERVICES'],
    servers.map((s) => [
      s.name, s.address ?? '-', s.profile, paintHealth(ctx, s.flapping ? `${s.health} (flapping)` : s.health), ago(s.lastSeen, now),
      pct(s.load?.cpuPercent), pct(s.load?.memoryPercent), pct(s.load?.diskPercent), s.services.join(',') || '-',
    ]),
  ) + mounts.join('');
}

/** The placed services, one line each, and the alerts firing now (for `status`). */
export function renderSummary(services: readonly ServiceView[], alerts: readonly FiringAlert[], ctx: Pick<CommandContext, 'color'>): string {
  const lines: string[] = [];
  if (services.length > 0) {
    lines.push('', table(['SERVICE', 'PRIMARY', 'STATE', 'REPLICAS'], services.map((s) => [
      s.name, s.primary ?? '-', s.primary ? paintHealth(ctx, s.health[s.primary] ?? 'unknown') : paint(ctx, 'red', 'unplaced'), s.replicas.join(',') || '-',
    ])).trimEnd());
  }
  lines.push('', alerts.length === 0 ? 'no alerts firing' : `alerts firing (${alerts.length}):`);
  for (const a of alerts) lines.push(`  ${paint(ctx, a.severity === 'critical' ? 'red' : 'yellow', a.severity.padEnd(8))} ${a.name.padEnd(20)} ${a.summary}`);
  return `${lines.join('\n')}\n`;
}

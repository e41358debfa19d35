/** Pushes the merged keys to servers and renders the per-server table: shared by sync and rotate. */
import type { Analysis } from '../../../inventory/analyze.js';
import { resolveGroups } from '../../../inventory/groups.js';
import { openKnownHosts, knownHostsPath } from '../../../keys/known-hosts.js';
import { mergedKeys } from '../../../keys/merge.js';
import { syncKeys, type SyncResult, type SyncTarget } from '../../../keys/sync.js';
import { configDir } from '../../client/config.js';
import type { CommandOutput } from '../../command.js';
import { paint, type CommandContext } from '../../context.js';
import { table } from '../../table.js';

export interface SyncSettings {
  identity?: string | undefined;
  timeout: number;
  concurrency: number;
}

export interface SyncReport {
  ok: boolean;
  known_hosts: string;
  results: SyncResult[];
}

export function syncTargets(analysis: Analysis, names: readonly string[]): SyncTarget[] {
  const resolution = resolveGroups(analysis.inventory);
  return names.map((name) => {
    const server = analysis.inventory.servers?.[name];
    return {
      server: name,
      host: server?.address ?? server?.hostname ?? name,
      port: server?.ssh?.port ?? 22,
      user: server?.ssh?.user ?? 'root',
      keys: mergedKeys(analysis.inventory, name, resolution).map((k) => ({ name: k.name, key: k.key })),
    };
  });
}

export async function runSync(targets: readonly SyncTarget[], settings: SyncSettings, ctx: CommandContext): Promise<SyncReport> {
  const knownHosts = openKnownHosts(knownHostsPath(configDir(ctx.env)));
  if (targets.length === 0) return { ok: true, known_hosts: knownHosts.file, results: [] };
  // ssh2 takes ~50 ms to load: only commands that connect pay for it.
  const { loadSshAuth, pushAuthorizedKeys } = await import('../../../keys/ssh-push.js');
  const auth = await loadSshAuth(settings.identity, ctx.env);
  const progress = ctx.interactive && !ctx.env.CI;
  const results = await syncKeys(targets, {
    concurrency: settings.concurrency,
    push: (target) => pushAuthorizedKeys(target, { keys: target.keys, auth, knownHosts, timeoutMs: settings.timeout }),
    onResult: progress ? (_r, done, total) => ctx.stderr.write(`\rsyncing keys: ${done}/${total}${done === total ? '\n' : ''}`) : undefined,
  });
  return { ok: results.every((r) => r.ok), known_hosts: knownHosts.file, results };
}

export function renderSync(report: SyncReport, ctx: CommandContext): string {
  if (report.results.length === 0) return 'no servers to sync\n';
  const status = (r: SyncResult) => (!r.ok ? paint(ctx, 'red', 'FAILED') : r.changed ? paint(ctx, 'green', 'updated') : 'unchanged');
  const changes = (r: SyncResult) => [...r.added.map((n) => `+${n}`), ...r.removed.map((n) => `-${n}`)].join(' ') || '-';
  const hostKey = (r: SyncResult) => (r.host_key ? `${r.host_key.pinned ? 'pinned ' : ''}${r.host_key.fingerprint}` : '-');
  const lines = [table(
    ['SERVER', 'ADDRESS', 'USER', 'RESULT', 'KEYS', 'CHANGES', 'HOST KEY'],
    report.results.map((r) => [r.server, r.address, r.user, status(r), String(r.keys.length), changes(r), hostKey(r)]),
  ).trimEnd()];
  const failed = report.results.filter((r) => !r.ok);
  for (const r of failed) {
    const error = r.error;
    const label = error?.code ? paint(ctx, 'red', `error[${error.code}]`) : paint(ctx, 'red', 'internal error, please report');
    lines.push(`${r.server}: ${label}: ${error?.message ?? 'failed'}`);
    if (error?.hint) lines.push(`  ${paint(ctx, 'dim', 'hint')}: ${error.hint}`);
  }
  const updated = report.results.filter((r) => r.ok && r.changed).length;
  const pinned = report.results.filter((r) => r.host_key?.pinned).length;
  const total = report.results.length;
  lines.push(failed.length === 0
    ? `all ${total} servers in sync (${updated} updated)`
    : `${failed.length} of ${total} servers failed (${updated} updated)`);
  if (pinned > 0) lines.push(`pinned the host key of ${pinned} server${pinned === 1 ? '' : 's'} on first contact in ${report.known_hosts}`);
  return lines.join('\n');
}

export function syncOutput(report: SyncReport, ctx: CommandContext, extra: Record<string, unknown> = {}, prefix = ''): CommandOutput {
  return { data: { ...extra, ...report }, text: prefix + renderSync(report, ctx), exitCode: report.ok ? 0 : 1 };
}

/**
 * Installs the merged keys on servers and renders the per-server table: shared by sync and
 * rotate. Each server goes through its agent or over SSH (`--via`); with `auto`, the
 * controller's list of connected agents decides, and without a controller every server goes
 * over SSH.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerView } from '../../../controller/core.js';
import { isCisternError, CisternError } from '../../../errors.js';
import type { Analysis } from '../../../inventory/analyze.js';
import { resolveGroups } from '../../../inventory/groups.js';
import { applyViaAgent } from '../../../keys/agent-push.js';
import { openKnownHosts, knownHostsPath, type KnownHosts } from '../../../keys/known-hosts.js';
import { mergedKeys } from '../../../keys/merge.js';
import { chooseVia, syncKeys, type Applied, type KeyTarget, type SyncResult, type SyncTarget, type ViaMode } from '../../../keys/sync.js';
import { apiClient, type ApiClient } from '../../client/api.js';
import { configDir, loadClientConfig } from '../../client/config.js';
import type { CommandOutput } from '../../command.js';
import { paint, type CommandContext } from '../../context.js';
import { table } from '../../table.js';

export interface SyncSettings {
  identity?: string | undefined;
  timeout: number;
  concurrency: number;
  via: ViaMode;
}

export interface SyncReport {
  ok: boolean;
  known_hosts: string;
  /** Why `--via auto` could not use the agents, when it asked a controller and got no answer. */
  warnings: string[];
  results: SyncResult[];
}

export function syncTargets(analysis: Analysis, names: readonly string[]): KeyTarget[] {
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

interface Agents { client: ApiClient; connected: ReadonlySet<string> }

const controllerConfigured = (env: NodeJS.ProcessEnv) => Boolean(env.CISTERN_URL) || existsSync(join(configDir(env), 'config.json'));

/** The controller's connected agents; undefined when they are not to be used (ssh, or auto without an answer). */
async function findAgents(mode: ViaMode, timeoutMs: number, ctx: CommandContext, warnings: string[]): Promise<Agents | undefined> {
  if (mode === 'ssh' || (mode === 'auto' && !controllerConfigured(ctx.env))) return undefined;
  try {
    const client = apiClient(await loadClientConfig(ctx.env));
    const { servers } = await client.get<{ servers: ServerView[] }>('/v1/servers', { timeoutMs });
    return { client, connected: new Set(servers.filter((s) => s.connected).map((s) => s.name)) };
  } catch (error) {
    if (mode === 'agent' || !isCisternError(error)) throw error;
    warnings.push(`could not ask the controller which agents are connected, so every server went over SSH: error[${error.code}]: ${error.message}`);
    return undefined;
  }
}

function agentPusher(agents: Agents | undefined, timeoutMs: number): (target: SyncTarget) => Promise<Applied> {
  return async (target) => {
    if (!agents?.connected.has(target.server)) {
      throw new CisternError('E_AGENT_OFFLINE', `${target.server} has no agent connected to the controller`, {
        hint: 'start its agent, or reach it over SSH with --via ssh (or --via auto)',
      });
    }
    return applyViaAgent(agents.client, target, timeoutMs);
  };
}

async function sshPusher(targets: readonly SyncTarget[], settings: SyncSettings, ctx: CommandContext, knownHosts: KnownHosts): Promise<(target: SyncTarget) => Promise<Applied>> {
  if (!targets.some((t) => t.via === 'ssh')) return () => Promise.reject(new Error('no server was to go over SSH'));
  // ssh2 takes ~50 ms to load: only commands that connect pay for it.
  const { loadSshAuth, pushAuthorizedKeys } = await import('../../../keys/ssh-push.js');
  let auth;
  try {
    auth = await loadSshAuth(settings.identity, ctx.env);
  } catch (error) {
    // With SSH alone, no credential is the command's error; beside agents it fails the SSH rows only.
    if (targets.every((t) => t.via === 'ssh')) throw error;
    return () => Promise.reject(error);
  }
  const using = auth;
  return (target) => pushAuthorizedKeys(target, { keys: target.keys, auth: using, knownHosts, timeoutMs: settings.timeout });
}

export async function runSync(servers: readonly KeyTarget[], settings: SyncSettings, ctx: CommandContext): Promise<SyncReport> {
  const knownHosts = openKnownHosts(knownHostsPath(configDir(ctx.env)));
  const warnings: string[] = [];
  if (servers.length === 0) return { ok: true, known_hosts: knownHosts.file, warnings, results: [] };
  const agents = await findAgents(settings.via, settings.timeout, ctx, warnings);
  const targets = servers.map((t): SyncTarget => ({ ...t, via: chooseVia(settings.via, t.server, agents?.connected) }));
  const overAgent = agentPusher(agents, settings.timeout);
  const overSsh = await sshPusher(targets, settings, ctx, knownHosts);
  const progress = ctx.interactive && !ctx.env.CI;
  const results = await syncKeys(targets, {
    concurrency: settings.concurrency,
    push: (target) => (target.via === 'agent' ? overAgent(target) : overSsh(target)),
    onResult: progress ? (_r, done, total) => ctx.stderr.write(`\rsyncing keys: ${done}/${total}${done === total ? '\n' : ''}`) : undefined,
  });
  return { ok: results.every((r) => r.ok), known_hosts: knownHosts.file, warnings, results };
}

export function renderSync(report: SyncReport, ctx: CommandContext): string {
  if (report.results.length === 0) return 'no servers to sync\n';
  const status = (r: SyncResult) => (!r.ok ? paint(ctx, 'red', 'FAILED') : r.changed ? paint(ctx, 'green', 'updated') : 'unchanged');
  const changes = (r: SyncResult) => [...r.added.map((n) => `+${n}`), ...r.removed.map((n) => `-${n}`)].join(' ') || '-';
  const hostKey = (r: SyncResult) => (r.host_key ? `${r.host_key.pinned ? 'pinned ' : ''}${r.host_key.fingerprint}` : '-');
  const lines = [table(
    ['SERVER', 'ADDRESS', 'USER', 'VIA', 'RESULT', 'KEYS', 'CHANGES', 'HOST KEY'],
    report.results.map((r) => [r.server, r.address, r.user, r.via, status(r), String(r.keys.length), changes(r), hostKey(r)]),
  ).trimEnd()];
  const failed = report.results.filter((r) => !r.ok);
  for (const r of failed) {
    const error = r.error;
    const label = error?.code ? paint(ctx, 'red', `error[${error.code}]`) : paint(ctx, 'red', 'internal error, please report');
    lines.push(`${r.server}: ${label}: ${error?.message ?? 'failed'}`);
    if (error?.hint) lines.push(`  ${paint(ctx, 'dim', 'hint')}: ${error.hint}`);
  }
  for (const warning of report.warnings) lines.push(`${paint(ctx, 'yellow', 'warning')}: ${warning}`);
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

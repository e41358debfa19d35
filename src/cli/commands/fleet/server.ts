import { stringify } from 'yaml';
import { z } from 'zod';
import type { ServerView } from '../../../controller/core.js';
import type { FleetEvent } from '../../../controller/events.js';
import { describeMount } from '../../../storage/health.js';
import { defineCommand } from '../../command.js';
import { paint } from '../../context.js';
import { ago, api, paintHealth } from './shared.js';

interface ServerDetail { server: ServerView; facts: Record<string, unknown> | null; ageRecipient: string | null; history: FleetEvent[] }

export const serverShowCommand = defineCommand({
  path: ['server', 'show'],
  summary: 'one server: facts, hardware profile with its reason, health history',
  args: [{ name: 'name', description: 'server name' }],
  input: z.object({ name: z.string() }),
  async handler(input, ctx) {
    const detail = await (await api(ctx)).get<ServerDetail>(`/v1/servers/${encodeURIComponent(input.name)}`);
    const s = detail.server;
    const lines = [
      `${s.name}  ${paintHealth(ctx, s.health)}${s.flapping ? ' (flapping)' : ''}  last seen ${ago(s.lastSeen)}${s.connected ? ', connected' : ''}`,
      `address:  ${s.address ?? '-'}`,
      `profile:  ${s.profileReason}${s.storageHeavy ? ' (storage-heavy)' : ''}`,
      `services: ${s.services.join(', ') || '-'}`,
    ];
    if (s.mounts) {
      lines.push(s.mounts.length === 0 ? 'mounts:   none watched (no network mounts, no media root)' : 'mounts:');
      for (const m of s.mounts) lines.push(`  ${m.healthy ? paint(ctx, 'green', 'ok ') : paint(ctx, 'red', 'BAD')} ${describeMount(m)}`);
    }
    if (detail.ageRecipient) lines.push(`age recipient: ${detail.ageRecipient}`);
    if (detail.facts) lines.push('', 'facts:', stringify(detail.facts, { lineWidth: 0 }).trimEnd().replace(/^/gm, '  '));
    lines.push('', 'health history:');
    if (detail.history.length === 0) lines.push('  (no transitions yet)');
    for (const e of detail.history) lines.push(`  ${new Date(e.at).toISOString()}  ${String(e.data.from)} → ${String(e.data.to)}  ${String(e.data.reason ?? '')}`);
    return { data: detail, text: lines.join('\n') };
  },
});

function commandCommand(verb: 'ping' | 'collect-facts', summary: string) {
  return defineCommand({
    path: ['server', verb],
    summary,
    args: [{ name: 'name', description: 'server name' }],
    options: [{ flags: '--timeout <ms>', description: 'how long to wait for the agent', default: '10000' }],
    input: z.object({ name: z.string(), timeout: z.coerce.number().int().positive().max(600_000) }),
    async handler(input, ctx) {
      const result = await (await api(ctx)).post<{ ok: boolean; data: unknown; error: string | null; ms: number }>(
        `/v1/servers/${encodeURIComponent(input.name)}/commands`, { name: verb, timeoutMs: input.timeout }, { timeoutMs: input.timeout + 5_000 });
      const text = result.ok
        ? verb === 'ping' ? `${input.name} answered in ${result.ms} ms` : `facts of ${input.name} collected in ${result.ms} ms`
        : `${input.name}: ${result.error ?? 'failed'}`;
      return { data: result, text, exitCode: result.ok ? 0 : 1 };
    },
  });
}

export const serverPingCommand = commandCommand('ping', 'ask a server\'s agent to answer, over its own connection');
export const serverFactsCommand = commandCommand('collect-facts', 'ask a server\'s agent to collect its hardware facts again');

export const serverRevokeCommand = defineCommand({
  path: ['server', 'revoke'],
  summary: 'revoke a server\'s agent credential: it is disconnected and refused from now on',
  args: [{ name: 'name', description: 'server name' }],
  input: z.object({ name: z.string() }),
  async handler(input, ctx) {
    const result = await (await api(ctx)).delete<{ name: string; revoked: boolean }>(`/v1/agents/${encodeURIComponent(input.name)}`);
    return { data: result, text: `revoked the agent of ${result.name}` };
  },
});

import { z } from 'zod';
import type { JoinTokenView } from '../../../controller/ports.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { api } from './shared.js';

export const tokenCreateCommand = defineCommand({
  path: ['token', 'create'],
  summary: 'make a join token and print the agent command that uses it',
  help: [
    'Example: cistern token create --ttl 2h --uses 3 --group family',
    'With --provisioning it prints a provisioning key instead: the token and this controller\'s CA',
    'fingerprint in one string, to bake into a box\'s install image (`cistern agent --provisioning-key KEY`).',
    'The box finds the controller by mDNS and checks its CA before sending the key. Provisioning keys',
    'never expire unless --ttl says so; limit them with --uses and --group, end them with `token revoke`.',
  ].join('\n'),
  options: [
    { flags: '--ttl <duration>', description: 'how long it is valid (never: no expiry; default 24h, provisioning keys never)' },
    { flags: '--provisioning', description: 'make a provisioning key for install images' },
    { flags: '--uses <n>', description: 'how many agents may use it (default: unlimited)' },
    { flags: '--group <group>', description: 'group the new servers join' },
    { flags: '--description <text>', description: 'what the token is for' },
  ],
  input: z.object({
    ttl: z.string().optional(), uses: z.coerce.number().int().positive().optional(), group: z.string().optional(), description: z.string().optional(),
    provisioning: z.boolean().default(false),
  }),
  async handler(input, ctx) {
    const created = await (await api(ctx)).post<JoinTokenView & { token: string; command: string; provisioningKey?: string }>('/v1/tokens', input);
    const limits = [created.expiresAt ? `expires ${new Date(created.expiresAt).toISOString()}` : 'never expires', created.usesLeft ? `${created.usesLeft} use(s)` : 'unlimited uses', ...(created.group ? [`group ${created.group}`] : [])].join(', ');
    if (created.provisioningKey) {
      return { data: created, text: `provisioning key ${created.id} (${limits}). Bake into the install image:\n\n  ${created.command}\n\nRevoke it with: cistern token revoke ${created.id}\n` };
    }
    return { data: created, text: `join token ${created.id} (${limits}). On the new server, run:\n\n  ${created.command}\n` };
  },
});

function state(t: JoinTokenView, now = Date.now()): string {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  if (t.usesLeft === 0) return 'used up';
  return 'active';
}

export const tokenListCommand = defineCommand({
  path: ['token', 'list'],
  summary: 'list join tokens and provisioning keys (never their secrets)',
  input: z.object({}),
  async handler(_input, ctx) {
    const { tokens } = await (await api(ctx)).get<{ tokens: JoinTokenView[] }>('/v1/tokens');
    const data = tokens.map((t) => ({ ...t, state: state(t) }));
    const text = data.length === 0 ? 'no join tokens\n' : table(['ID', 'KIND', 'STATE', 'EXPIRES', 'USES LEFT', 'GROUP', 'DESCRIPTION'],
      data.map((t) => [t.id, t.kind, t.state, t.expiresAt ? new Date(t.expiresAt).toISOString() : 'never', t.usesLeft === null ? 'unlimited' : String(t.usesLeft), t.group ?? '-', t.description ?? '-']));
    return { data, text };
  },
});

export const tokenRevokeCommand = defineCommand({
  path: ['token', 'revoke'],
  summary: 'revoke a join token or provisioning key',
  args: [{ name: 'id', description: 'token id (the part after cst_, before the dot)' }],
  input: z.object({ id: z.string() }),
  async handler(input, ctx) {
    const result = await (await api(ctx)).delete<{ id: string; revoked: boolean }>(`/v1/tokens/${encodeURIComponent(input.id.replace(/^cst_/, '').split('.')[0] ?? '')}`);
    return { data: result, text: `revoked join token ${result.id}` };
  },
});

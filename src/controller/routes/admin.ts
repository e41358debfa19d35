/**
 * Admin endpoints (admin token only): join tokens, discovered boxes (approve, reject, unreject),
 * the fleet view, one server, commands to an agent, agent revocation, and events (with long-polling for `cistern events --follow`).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CisternError } from '../../errors.js';
import { COMMAND_NAMES } from '../../protocol/messages.js';
import { parseDuration } from '../../util/duration.js';
import { requireAdmin } from '../auth.js';
import type { ControllerCore } from '../core.js';
import type { ControllerDiscovery } from '../discovery.js';
import { formatProvisioningKey } from '../../discovery/provisioning-key.js';

const tokenBody = z.object({
  ttl: z.string().optional(),
  uses: z.int().positive().optional(),
  group: z.string().max(63).optional(),
  description: z.string().max(200).optional(),
  /** A provisioning key: the token with the CA fingerprint, for install images; never expires unless told. */
  provisioning: z.boolean().default(false),
});
const approveBody = z.union([
  z.object({ names: z.array(z.string().min(1).max(200)).min(1).max(1000), group: z.string().max(63).optional() }),
  z.object({ all: z.literal(true), group: z.string().max(63).optional() }),
]);
// Not a union (as approveBody is), so a mistake is reported at the field instead of as "invalid input".
const rejectBody = z.object({
  names: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
  all: z.literal(true).optional(),
}).refine((b) => (b.names === undefined) !== (b.all === undefined), { path: ['names'], message: 'give the boxes to reject, or all: true (not both)' });
const unrejectBody = z.object({ box: z.string().min(1).max(200) });
const commandBody = z.object({ name: z.enum(COMMAND_NAMES), args: z.record(z.string(), z.unknown()).default({}), timeoutMs: z.int().positive().max(600_000).default(10_000) });
const eventsQuery = z.object({
  /** Without it: the latest `limit` events. */
  after: z.coerce.number().int().nonnegative().optional(),
  server: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  wait: z.coerce.number().int().min(0).max(60_000).default(0),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CisternError('E_BAD_REQUEST', `${[where, ...(issue?.path ?? [])].join('.')}: ${issue?.message ?? 'invalid'}`);
}

export function adminRoutes(app: FastifyInstance, deps: { core: ControllerCore; discovery: ControllerDiscovery; publicUrl: () => string; caFingerprint: string }): void {
  const { core } = deps;
  app.addHook('preHandler', requireAdmin(core.store));

  app.post('/v1/tokens', async (request) => {
    const body = parse(tokenBody, request.body ?? {}, 'body');
    const ttlMs = body.ttl === undefined ? (body.provisioning ? null : 24 * 3_600_000) : body.ttl === '0' || body.ttl === 'never' ? null : parseDuration(body.ttl);
    if (ttlMs === undefined) throw new CisternError('E_BAD_REQUEST', `body.ttl: "${body.ttl}" is not a duration like 24h`);
    const created = core.createJoinToken({ ttlMs, uses: body.uses ?? null, group: body.group ?? null, description: body.description ?? null, kind: body.provisioning ? 'provisioning' : 'join' });
    if (body.provisioning) {
      const provisioningKey = formatProvisioningKey(created.token, deps.caFingerprint);
      return { ...created, provisioningKey, command: `cistern agent --provisioning-key ${provisioningKey}` };
    }
    const command = `cistern agent --controller ${deps.publicUrl()} --token ${created.token} --ca-hash ${deps.caFingerprint}`;
    return { ...created, command };
  });

  app.get('/v1/tokens', async () => ({ tokens: core.store.tokens.list() }));

  app.delete<{ Params: { id: string } }>('/v1/tokens/:id', async (request) => {
    if (!core.store.tokens.revoke(request.params.id, core.clock())) throw new CisternError('E_NOT_FOUND', `no join token ${request.params.id}`);
    core.events.record('token-revoked', null, { token: request.params.id });
    return { id: request.params.id, revoked: true };
  });

  app.get('/v1/discovered', async () => ({ boxes: deps.discovery.list() }));

  app.post('/v1/discovered/approve', async (request) => {
    const body = parse(approveBody, request.body ?? {}, 'body');
    const approved = await deps.discovery.approve('all' in body ? { all: true } : { names: body.names }, body.group ?? null);
    return { approved };
  });

  app.post('/v1/discovered/reject', async (request) => {
    const body = parse(rejectBody, request.body ?? {}, 'body');
    return { rejected: deps.discovery.reject(body.names ? { names: body.names } : { all: true }) };
  });

  app.get('/v1/discovered/rejected', async () => ({ rejected: deps.discovery.rejected() }));

  app.post('/v1/discovered/unreject', async (request) => {
    const body = parse(unrejectBody, request.body ?? {}, 'body');
    return { unrejected: deps.discovery.unreject(body.box) };
  });

  app.get('/v1/servers', async () => ({ servers: core.servers() }));

  app.get<{ Params: { name: string } }>('/v1/servers/:name', async (request) => {
    const view = core.servers().find((s) => s.name === request.params.name);
    if (!view) throw new CisternError('E_SERVER_NOT_FOUND', `no server named "${request.params.name}"`);
    const agent = view.agentId ? core.store.agents.get(view.agentId) : undefined;
    const history = core.events.list({ server: view.name, limit: 1000, newest: true }).filter((e) => e.kind === 'health').slice(-50);
    return { server: view, facts: agent?.facts ?? null, ageRecipient: agent?.ageRecipient ?? null, history };
  });

  app.post<{ Params: { name: string } }>('/v1/servers/:name/commands', async (request) => {
    const body = parse(commandBody, request.body ?? {}, 'body');
    const agent = core.agentByName(request.params.name);
    const started = performance.now();
    const result = await core.hub.command(agent.id, body.name, body.args, body.timeoutMs);
    if (result.ok && body.name === 'collect-facts' && result.data && typeof result.data === 'object') core.updateFacts(agent.id, result.data as Record<string, unknown>);
    return { server: agent.name, command: body.name, ok: result.ok, data: result.data ?? null, error: result.error ?? null, code: result.code ?? null, hint: result.hint ?? null, ms: Math.round(performance.now() - started) };
  });

  app.delete<{ Params: { name: string } }>('/v1/agents/:name', async (request) => {
    const agent = core.revokeAgent(request.params.name);
    return { name: agent.name, revoked: true };
  });

  app.get('/v1/events', async (request) => {
    const query = parse(eventsQuery, request.query, 'query');
    const controller = new AbortController();
    request.raw.once('close', () => controller.abort());
    const events = await core.events.follow({ afterId: query.after ?? 0, server: query.server, limit: query.limit, newest: query.after === undefined }, query.wait, controller.signal);
    return { events, last: events.at(-1)?.id ?? query.after ?? 0 };
  });
}

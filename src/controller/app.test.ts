import { describe, expect, it, afterEach } from 'vitest';
import WebSocket from 'ws';
import { intelN100 } from '../agent/fixtures/pcs.js';
import { testController, type TestController, type TestControllerOptions } from '../testing/controller.js';
import { generateSecret, hashSecret } from './tokens.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const open: TestController[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const controller of open.splice(0)) await controller.close();
});

/** A controller whose time stands still at `now` until a test moves it. */
async function controller(options: TestControllerOptions = {}): Promise<TestController & { clock: { now: number } }> {
  const clock = { now: T0 };
  const c = await testController({ clock: () => clock.now, ...options });
  open.push(c);
  return { ...c, clock };
}

const admin = (c: TestController) => ({ authorization: `Bearer ${c.adminToken}` });
const secretPart = (token: string) => token.slice(token.indexOf('.') + 1);

function registration(token: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { token, hostname: 'media-1.lan', version: '0.1.0', ageRecipient: `age1${'q'.repeat(58)}`, facts: intelN100, ...overrides };
}

async function joinToken(c: TestController, body: Record<string, unknown> = { uses: 1 }): Promise<{ id: string; token: string }> {
  const res = await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin(c), payload: body });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function registerAgent(c: TestController, hostname = 'media-1'): Promise<{ agentId: string; name: string; credential: string }> {
  const { token } = await joinToken(c);
  const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { hostname }) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const refusals = (c: TestController) => c.core.events.list({ limit: 1000 }).filter((e) => e.kind === 'registration-refused').map((e) => e.data);

interface Agent {
  ws: WebSocket;
  send(message: unknown): void;
  /** The next message of this type from the controller (waits up to 2 s). */
  next(type: string): Promise<Record<string, unknown>>;
}

/** An agent's socket, through fastify's in-memory upgrade (no port). */
async function connect(c: TestController, credential: string): Promise<Agent> {
  const inbox: Record<string, unknown>[] = [];
  let wake = () => {};
  const ws = await c.app.injectWS('/v1/agent/connect', { headers: { authorization: `Bearer ${credential}` } }, {
    onInit: (socket) => socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      // Like a real agent, answer the fact collection every connection starts with.
      if (message.type === 'command' && message.name === 'collect-facts') {
        socket.send(JSON.stringify({ type: 'result', id: message.id, ok: true, data: {} }));
        return;
      }
      inbox.push(message);
      wake();
    }),
  });
  sockets.push(ws);
  const next = async (type: string) => {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const at = inbox.findIndex((m) => m.type === type);
      if (at >= 0) return inbox.splice(at, 1)[0] as Record<string, unknown>;
      if (Date.now() > deadline) throw new Error(`no ${type} message from the controller`);
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    }
  };
  return { ws, send: (m) => ws.send(typeof m === 'string' || Buffer.isBuffer(m) ? m : JSON.stringify(m)), next };
}

const heartbeat = (seq: number) => ({ type: 'heartbeat', seq, sentAt: Date.now(), services: {} });

/** Tries a real WebSocket upgrade over plain HTTP and returns the refusal the controller sent. */
async function refusedUpgrade(c: TestController, credential?: string): Promise<{ status: number; body: any }> {
  const url = await c.app.listen({ host: '127.0.0.1', port: 0 });
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent/connect`, { headers: credential ? { authorization: `Bearer ${credential}` } : {} });
  sockets.push(ws);
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.on('open', () => reject(new Error('the controller accepted the upgrade')));
    ws.on('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

describe('credentials on the admin API', () => {
  const ROUTES = [
    ['POST', '/v1/tokens'],
    ['GET', '/v1/tokens'],
    ['DELETE', '/v1/tokens/:token'],
    ['GET', '/v1/servers'],
    ['GET', '/v1/servers/:server'],
    ['POST', '/v1/servers/:server/commands'],
    ['DELETE', '/v1/agents/:server'],
    ['GET', '/v1/events'],
  ] as const;
  const PAYLOADS: Record<string, object> = { '/v1/tokens': { uses: 1 }, '/v1/servers/:server/commands': { name: 'ping' } };

  /** A controller with an agent and a join token, so a route that let a request through would change something. */
  async function fleet() {
    const c = await controller();
    const agent = await registerAgent(c);
    const spare = await joinToken(c);
    const state = () => JSON.stringify({ tokens: c.store.tokens.list(), agents: c.store.agents.list(), events: c.core.events.list({ limit: 1000 }) });
    const request = (method: (typeof ROUTES)[number][0], route: string, headers: Record<string, string>) => c.app.inject({
      method, url: route.replace(':token', spare.id).replace(':server', agent.name), headers, ...(method === 'POST' && { payload: PAYLOADS[route] }),
    });
    return { c, agent, spare, state, request };
  }

  it('GET /healthz needs no credential', async () => {
    const c = await controller();
    const res = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('the admin token opens every admin route (so the refusals below are the guard, not a missing route)', async () => {
    const { c, request } = await fleet();
    const statuses = [];
    for (const [method, route] of ROUTES) statuses.push((await request(method, route, admin(c))).statusCode);
    // The command is refused only because the agent is not connected.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 409, 200, 200]);
  });

  it.each(ROUTES)('%s %s without a credential: 401 E_UNAUTHORIZED, nothing changes', async (method, route) => {
    const { state, request } = await fleet();
    const before = state();
    const res = await request(method, route, {});
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.objectContaining({ code: 'E_UNAUTHORIZED', message: expect.any(String) }) });
    expect(state()).toBe(before);
  });

  it.each(ROUTES)('%s %s with a wrong admin token: 401 E_UNAUTHORIZED, nothing changes', async (method, route) => {
    const { state, request } = await fleet();
    const before = state();
    const res = await request(method, route, { authorization: `Bearer ${generateSecret('csa_')}` });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('E_UNAUTHORIZED');
    expect(state()).toBe(before);
  });

  it.each(ROUTES)('%s %s with an agent credential: 403 E_FORBIDDEN, nothing changes', async (method, route) => {
    const { agent, state, request } = await fleet();
    const before = state();
    const res = await request(method, route, { authorization: `Bearer ${agent.credential}` });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('E_FORBIDDEN');
    expect(state()).toBe(before);
  });

  it('refuses the admin token in the wrong scheme, a join token, and HEAD requests without a credential', async () => {
    const { c, request } = await fleet();
    expect((await request('GET', '/v1/tokens', { authorization: `Basic ${c.adminToken}` })).statusCode).toBe(401);
    expect((await request('GET', '/v1/tokens', { authorization: c.adminToken })).statusCode).toBe(401);
    const other = await joinToken(c);
    expect((await request('GET', '/v1/tokens', { authorization: `Bearer ${other.token}` })).statusCode).toBe(401);
    for (const url of ['/v1/tokens', '/v1/servers', '/v1/events']) expect((await c.app.inject({ method: 'HEAD', url })).statusCode).toBe(401);
  });
});

describe('POST /v1/register', () => {
  it('trades a valid join token for an agent credential', async () => {
    const c = await controller();
    const { token } = await joinToken(c);
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({ agentId: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'media-1', credential: expect.stringMatching(/^cag_[0-9a-f]{8}\.[\w-]{43}$/), heartbeatIntervalMs: 5_000 });
    expect(c.store.agents.byCredentialHash(hashSecret(body.credential))?.name).toBe('media-1');
    const servers = await c.app.inject({ method: 'GET', url: '/v1/servers', headers: admin(c) });
    expect(servers.json().servers).toEqual([expect.objectContaining({ name: 'media-1', agentId: body.agentId, health: 'unknown', profile: 'intel-quicksync' })]);
  });

  it('refuses a single-use token the second time: 401 E_TOKEN_USED_UP', async () => {
    const c = await controller();
    const { token } = await joinToken(c, { uses: 1 });
    expect((await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) })).statusCode).toBe(200);
    const again = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { hostname: 'media-2' }) });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('E_TOKEN_USED_UP');
    expect(c.store.agents.list().map((a) => a.name)).toEqual(['media-1']);
    expect(refusals(c)).toEqual([{ hostname: 'media-2', reason: 'used-up' }]);
  });

  it('refuses an expired token: 401 E_TOKEN_EXPIRED', async () => {
    const c = await controller();
    const { token } = await joinToken(c, { ttl: '1m' });
    c.clock.now = T0 + 59_999;
    expect((await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { hostname: 'early' }) })).statusCode).toBe(200);
    c.clock.now = T0 + 60_000;
    const late = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { hostname: 'late' }) });
    expect(late.statusCode).toBe(401);
    expect(late.json().error.code).toBe('E_TOKEN_EXPIRED');
    expect(c.store.agents.list().map((a) => a.name)).toEqual(['early']);
    expect(refusals(c)).toEqual([{ hostname: 'late', reason: 'expired' }]);
  });

  it('refuses a revoked token: 401 E_TOKEN_REVOKED', async () => {
    const c = await controller();
    const { id, token } = await joinToken(c, {});
    const revoked = await c.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: admin(c) });
    expect(revoked.json()).toEqual({ id, revoked: true });
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('E_TOKEN_REVOKED');
    expect(c.store.agents.list()).toEqual([]);
    expect(refusals(c)).toEqual([{ hostname: 'media-1.lan', reason: 'revoked' }]);
  });

  it.each([
    ['malformed', () => 'not-a-token'],
    ['well-formed but never issued', () => `cst_0123abcd.${'A'.repeat(43)}`],
    ['an admin token', (c: TestController) => c.adminToken],
  ])('refuses a %s token: 401 E_TOKEN_UNKNOWN', async (_what, make) => {
    const c = await controller();
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(make(c)) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('E_TOKEN_UNKNOWN');
    expect(c.store.agents.list()).toEqual([]);
    expect(refusals(c)).toEqual([{ hostname: 'media-1.lan', reason: 'unknown' }]);
  });

  it('refuses a real token id with the wrong secret as unknown, and leaves the token usable', async () => {
    const c = await controller();
    const { id, token } = await joinToken(c, { uses: 1 });
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(`cst_${id}.${'B'.repeat(43)}`) });
    expect(res.json().error.code).toBe('E_TOKEN_UNKNOWN');
    expect(refusals(c)).toEqual([{ hostname: 'media-1.lan', reason: 'unknown' }]);
    expect((await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) })).statusCode).toBe(200);
  });
});

describe('request bodies', () => {
  it.each([
    ['missing hostname', { hostname: undefined }, 'hostname'],
    ['a bad ageRecipient', { ageRecipient: 'AGE1NOTBECH32!' }, 'body.ageRecipient'],
    ['facts that are not an object', { facts: 'x' }, 'body.facts'],
  ])('a registration with %s: 400 E_BAD_REQUEST naming the field, and the token is not used', async (_what, change, field) => {
    const c = await controller();
    const { token } = await joinToken(c, { uses: 1 });
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, change) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'E_BAD_REQUEST', message: expect.stringContaining(field) });
    expect(c.store.agents.list()).toEqual([]);
    expect(c.store.tokens.list()[0]?.usesLeft).toBe(1);
  });

  it('a body over 256 KiB: 413, and nothing is created or used', async () => {
    const c = await controller();
    const { token } = await joinToken(c, { uses: 1 });
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { facts: { pad: 'x'.repeat(256 * 1024) } }) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('E_BAD_REQUEST');
    expect(c.store.agents.list()).toEqual([]);
    expect(c.store.tokens.list()[0]?.usesLeft).toBe(1);
    expect(refusals(c)).toEqual([]);
  });

  it('POST /v1/tokens with ttl "forever": 400 naming body.ttl, and no token is made', async () => {
    const c = await controller();
    const res = await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin(c), payload: { ttl: 'forever' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'E_BAD_REQUEST', message: expect.stringContaining('body.ttl') });
    expect(c.store.tokens.list()).toEqual([]);
  });

  it("an agent's malformed facts fail neither its registration nor the fleet view", async () => {
    const c = await controller();
    const { token } = await joinToken(c);
    const facts = { interfaces: [{ name: 'eth0', addresses: 7 }], gpus: 'none' };
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token, { facts }) });
    expect(res.statusCode).toBe(200);
    const list = await c.app.inject({ method: 'GET', url: '/v1/servers', headers: admin(c) });
    expect(list.statusCode).toBe(200);
    expect(list.json().servers).toEqual([expect.objectContaining({ name: 'media-1', address: null, profile: 'generic' })]);
    expect((await c.app.inject({ method: 'GET', url: '/v1/servers/media-1', headers: admin(c) })).statusCode).toBe(200);
  });
});

describe('registration rate limit', () => {
  it('refuses the 4th attempt a minute from one address with 429 E_RATE_LIMITED, but not another address', async () => {
    const c = await controller({ registrationsPerMinute: 3 });
    const { token } = await joinToken(c, {});
    const attempt = (remoteAddress: string, body = registration('cst_0123abcd.nope')) => c.app.inject({ method: 'POST', url: '/v1/register', remoteAddress, payload: body });
    for (let i = 0; i < 3; i++) expect((await attempt('192.0.2.10')).statusCode).toBe(401);
    const fourth = await attempt('192.0.2.10', registration(token));
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().error.code).toBe('E_RATE_LIMITED');
    expect(c.store.agents.list()).toEqual([]);
    expect((await attempt('192.0.2.11', registration(token))).statusCode).toBe(200);
  });
});

describe('secrets', () => {
  it('GET /v1/tokens shows no secret and no secret hash', async () => {
    const c = await controller();
    const { id, token } = await joinToken(c, { uses: 2, group: 'living-room' });
    const res = await c.app.inject({ method: 'GET', url: '/v1/tokens', headers: admin(c) });
    expect(res.json().tokens).toEqual([{ id, group: 'living-room', description: null, createdAt: T0, expiresAt: T0 + 86_400_000, usesLeft: 2, revokedAt: null, kind: 'join' }]);
    for (const needle of [token, secretPart(token), hashSecret(secretPart(token)), hashSecret(token), 'secretHash', 'secret']) expect(res.body).not.toContain(needle);
  });

  it('the server views show neither the agent credential nor its hash', async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    for (const url of ['/v1/servers', `/v1/servers/${name}`]) {
      const res = await c.app.inject({ method: 'GET', url, headers: admin(c) });
      expect(res.statusCode).toBe(200);
      for (const needle of [secretPart(credential), hashSecret(credential), 'credential']) expect(res.body).not.toContain(needle);
    }
  });

  it('no token, admin token or agent credential reaches the logs', async () => {
    const c = await controller();
    const { token } = await joinToken(c, { uses: 1 });
    const registered = await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) });
    const { credential, name } = registered.json();
    await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(token) }); // refused: used up
    await c.app.inject({ method: 'POST', url: '/v1/register', payload: registration(`${token}x`.repeat(3)) }); // refused: too long
    const wrongAdmin = generateSecret('csa_');
    await c.app.inject({ method: 'GET', url: '/v1/tokens', headers: { authorization: `Bearer ${wrongAdmin}` } });
    await c.app.inject({ method: 'GET', url: '/v1/tokens', headers: { authorization: `Bearer ${credential}` } });
    const agent = await connect(c, credential);
    agent.send(heartbeat(0));
    await agent.next('ack');
    const ping = c.app.inject({ method: 'POST', url: `/v1/servers/${name}/commands`, headers: admin(c), payload: { name: 'ping' } });
    agent.send({ type: 'result', id: (await agent.next('command')).id, ok: true, data: { pong: true } });
    expect((await ping).statusCode).toBe(200);
    for (const url of ['/v1/tokens', '/v1/servers', `/v1/servers/${name}`, '/v1/events']) await c.app.inject({ method: 'GET', url, headers: admin(c) });

    const logs = c.logs();
    expect(logs).toContain('agent registered'); // the capture works
    for (const secret of [token, c.adminToken, credential, wrongAdmin]) {
      expect(logs).not.toContain(secretPart(secret));
      expect(logs).not.toContain(hashSecret(secret));
    }
  });
});

describe('the agent socket', () => {
  it('refuses an upgrade without a credential: 401 E_AGENT_UNKNOWN', async () => {
    const c = await controller();
    const { status, body } = await refusedUpgrade(c);
    expect(status).toBe(401);
    expect(body.error.code).toBe('E_AGENT_UNKNOWN');
  });

  it.each([
    ['an unknown agent credential', () => generateSecret('cag_')],
    ['the admin token', (c: TestController) => c.adminToken],
  ])('refuses an upgrade with %s: 401 E_AGENT_UNKNOWN', async (_what, make) => {
    const c = await controller();
    const { status, body } = await refusedUpgrade(c, make(c));
    expect(status).toBe(401);
    expect(body.error.code).toBe('E_AGENT_UNKNOWN');
  });

  it("closes a revoked agent's socket and refuses its credential after: 403 E_AGENT_REVOKED", async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    const closed = new Promise<number>((resolve) => agent.ws.on('close', resolve));
    const res = await c.app.inject({ method: 'DELETE', url: `/v1/agents/${name}`, headers: admin(c) });
    expect(res.json()).toEqual({ name, revoked: true });
    expect(await closed).toBe(4003);
    const { status, body } = await refusedUpgrade(c, credential);
    expect(status).toBe(403);
    expect(body.error.code).toBe('E_AGENT_REVOKED');
  });

  it("records an agent's supervision events under its server's name; malformed ones are dropped", async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    agent.send({ type: 'event', kind: 'service-restart', service: 'jellyfin', at: 123, data: { attempt: 1, delayMs: 500, service: 'spoofed' } });
    agent.send({ type: 'event', kind: 'service-deleted-everything', service: 'jellyfin', at: 124, data: {} });
    agent.send({ type: 'event', kind: 'service-state', service: 'jellyfin', at: 125, data: { big: 'x'.repeat(5_000) } });
    agent.send(heartbeat(0));
    await agent.next('ack'); // messages are handled in order: the events before it are in
    const res = await c.app.inject({ method: 'GET', url: '/v1/events?limit=100', headers: admin(c) });
    const events = (res.json().events as Array<{ kind: string; server: string; data: unknown }>).filter((e) => e.kind.startsWith('service-'));
    expect(events).toEqual([expect.objectContaining({ kind: 'service-restart', server: name, data: { attempt: 1, delayMs: 500, service: 'jellyfin', agentAt: 123 } })]);
  });

  it('acknowledges a heartbeat, and the server turns healthy', async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    agent.send(heartbeat(0));
    // No inventory, so no media root for the agent to watch.
    expect(await agent.next('ack')).toEqual({ type: 'ack', seq: 0, intervalMs: 5_000, watch: [], leases: {}, leaseTtlMs: 15000 });
    const res = await c.app.inject({ method: 'GET', url: '/v1/servers', headers: admin(c) });
    expect(res.json().servers).toEqual([expect.objectContaining({ name, health: 'healthy', connected: true, lastSeen: new Date(T0).toISOString() })]);
  });

  it('drops malformed messages and keeps the connection', async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    for (const junk of ['not json', 'null', '[1,2]', '{"type":"nope"}', JSON.stringify({ ...heartbeat(0), seq: -1 }), JSON.stringify({ type: 'result', id: 'x'.repeat(65), ok: true }), Buffer.from([0xff, 0x00])]) agent.send(junk);
    agent.send(heartbeat(7));
    expect(await agent.next('ack')).toMatchObject({ seq: 7 });
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    expect(c.logs()).toContain('dropped a malformed message');
    const view = await c.app.inject({ method: 'GET', url: `/v1/servers/${name}`, headers: admin(c) });
    expect(view.json().server).toMatchObject({ health: 'healthy', connected: true });
  });

  it('carries a ping command to the agent and its result back to the HTTP caller', async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    const answer = c.app.inject({ method: 'POST', url: `/v1/servers/${name}/commands`, headers: admin(c), payload: { name: 'ping' } });
    const command = await agent.next('command');
    expect(command).toEqual({ type: 'command', id: expect.any(String), name: 'ping', args: {}, timeoutMs: 10_000 });
    agent.send({ type: 'result', id: command.id, ok: true, data: { pong: true } });
    const res = await answer;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ server: name, command: 'ping', ok: true, data: { pong: true }, error: null });
  });

  it('answers a command to an agent that is not connected with 409 E_AGENT_OFFLINE', async () => {
    const c = await controller();
    const { name } = await registerAgent(c);
    const res = await c.app.inject({ method: 'POST', url: `/v1/servers/${name}/commands`, headers: admin(c), payload: { name: 'ping' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('E_AGENT_OFFLINE');
  });

  it('fails a command at once when its agent disconnects before answering', async () => {
    const c = await controller();
    const { credential, name } = await registerAgent(c);
    const agent = await connect(c, credential);
    const started = Date.now();
    const answer = c.app.inject({ method: 'POST', url: `/v1/servers/${name}/commands`, headers: admin(c), payload: { name: 'ping', timeoutMs: 30_000 } });
    await agent.next('command');
    agent.ws.terminate();
    const res = await answer;
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('E_AGENT_OFFLINE');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("does not let one agent answer another agent's command", async () => {
    const c = await controller();
    const alpha = await connect(c, (await registerAgent(c, 'alpha')).credential);
    const bravo = await connect(c, (await registerAgent(c, 'bravo')).credential);
    const answer = c.app.inject({ method: 'POST', url: '/v1/servers/bravo/commands', headers: admin(c), payload: { name: 'ping' } });
    const command = await bravo.next('command');
    alpha.send({ type: 'result', id: command.id, ok: true, data: { forged: true } });
    // A socket's messages are handled in order: once alpha's ack is back, its forged result was seen.
    alpha.send(heartbeat(0));
    await alpha.next('ack');
    bravo.send({ type: 'result', id: command.id, ok: true, data: { pong: true } });
    expect((await answer).json()).toMatchObject({ server: 'bravo', ok: true, data: { pong: true } });
  });

  it("times out a command that only another agent answered: 504 E_COMMAND_TIMEOUT", async () => {
    const c = await controller();
    const alpha = await connect(c, (await registerAgent(c, 'alpha')).credential);
    const bravo = await connect(c, (await registerAgent(c, 'bravo')).credential);
    const answer = c.app.inject({ method: 'POST', url: '/v1/servers/bravo/commands', headers: admin(c), payload: { name: 'ping', timeoutMs: 150 } });
    alpha.send({ type: 'result', id: (await bravo.next('command')).id, ok: true, data: { forged: true } });
    const res = await answer;
    expect(res.statusCode).toBe(504);
    expect(res.json().error.code).toBe('E_COMMAND_TIMEOUT');
  });
});

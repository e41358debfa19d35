import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { intelN100 } from '../../agent/fixtures/pcs.js';
import { testController, type TestController } from '../../testing/controller.js';
import { hashSecret } from '../tokens.js';

const open: TestController[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const c of open.splice(0)) await c.close();
});

async function controller(): Promise<TestController> {
  const c = await testController({ monitoring: {} });
  open.push(c);
  return c;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function scrapeToken(c: TestController): Promise<string> {
  const res = await c.app.inject({ method: 'POST', url: '/v1/monitoring/scrape-token', headers: auth(c.adminToken) });
  expect(res.statusCode).toBe(200);
  return (res.json() as { token: string }).token;
}

async function register(c: TestController, hostname: string): Promise<{ agentId: string; name: string; credential: string }> {
  const token = (await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(c.adminToken), payload: { uses: 1 } })).json().token as string;
  const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: { token, hostname, version: '0.1.0', ageRecipient: `age1${'q'.repeat(58)}`, facts: intelN100 } });
  expect(res.statusCode).toBe(200);
  return res.json();
}

interface Commands { next(name: string): Promise<{ id: string; args: Record<string, unknown> }>; send(message: unknown): void }

/** An agent's socket that answers collect-facts and hands every other command to the test. */
async function connect(c: TestController, credential: string): Promise<Commands> {
  const inbox: Array<{ id: string; name: string; args: Record<string, unknown> }> = [];
  const ws = await c.app.injectWS('/v1/agent/connect', { headers: auth(credential) }, {
    onInit: (socket) => socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; id: string; name: string; args: Record<string, unknown> };
      if (message.type !== 'command') return;
      if (message.name === 'collect-facts') socket.send(JSON.stringify({ type: 'result', id: message.id, ok: true, data: intelN100 }));
      else inbox.push(message);
    }),
  });
  sockets.push(ws);
  return {
    send: (message) => ws.send(JSON.stringify(message)),
    async next(name) {
      const deadline = Date.now() + 3_000;
      for (;;) {
        const at = inbox.findIndex((m) => m.name === name);
        if (at >= 0) return inbox.splice(at, 1)[0] as { id: string; args: Record<string, unknown> };
        if (Date.now() > deadline) throw new Error(`no ${name} command`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

const metricsKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('GET /metrics and the scrape token', () => {
  it('answers the scrape token and the admin token, nobody else', async () => {
    const c = await controller();
    expect((await c.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const admin = await c.app.inject({ url: '/metrics', headers: auth(c.adminToken) });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(admin.body).toContain('# TYPE cistern_servers gauge');
    const token = await scrapeToken(c);
    expect(token).toMatch(/^csm_[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
    expect((await c.app.inject({ url: '/metrics', headers: auth(token) })).statusCode).toBe(200);
    const agent = await register(c, 'media-1');
    expect((await c.app.inject({ url: '/metrics', headers: auth(agent.credential) })).json().error.code).toBe('E_FORBIDDEN');
  });

  it('reads metrics and targets only: admin endpoints refuse it', async () => {
    const c = await controller();
    const token = await scrapeToken(c);
    const res = await c.app.inject({ url: '/v1/servers', headers: auth(token) });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('E_FORBIDDEN');
    expect((await c.app.inject({ method: 'POST', url: '/v1/monitoring/scrape-token', headers: auth(token) })).statusCode).toBe(403);
  });

  it('stops working when rotated, and is stored only as a hash, never logged', async () => {
    const c = await controller();
    const first = await scrapeToken(c);
    const second = await scrapeToken(c);
    const refused = await c.app.inject({ url: '/v1/sd/targets', headers: auth(first) });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.message).toBe('the scrape token is not valid');
    expect((await c.app.inject({ url: '/v1/sd/targets', headers: auth(second) })).statusCode).toBe(200);
    expect(c.store.meta.get('scrape_token_hash')).toBe(hashSecret(second));
    const secret = second.slice(second.indexOf('.') + 1);
    expect(c.logs()).not.toContain(secret);
  });

  it('times API requests by route pattern', async () => {
    const c = await controller();
    await c.app.inject({ url: '/v1/servers/nowhere', headers: auth(c.adminToken) });
    const body = (await c.app.inject({ url: '/metrics', headers: auth(c.adminToken) })).body;
    expect(body).toContain('cistern_api_request_duration_seconds_count{method="GET",route="/v1/servers/:name",status="404"} 1');
  });
});

describe('GET /v1/sd/targets', () => {
  it('serves Prometheus\' http_sd format, filtered by scrape', async () => {
    const c = await controller();
    await register(c, 'media-1');
    const all = await c.app.inject({ url: '/v1/sd/targets', headers: auth(c.adminToken) });
    expect(all.headers['content-type']).toMatch(/^application\/json/);
    const groups = all.json() as Array<{ targets: string[]; labels: Record<string, string> }>;
    expect(groups.map((g) => `${g.labels.job} ${g.targets[0]}`)).toEqual([
      'cistern-controller controller.test:7443', 'cistern-agent 192.168.1.20:9810', 'node 192.168.1.20:9100',
    ]);
    const agents = (await c.app.inject({ url: '/v1/sd/targets?scrape=cistern-agent', headers: auth(c.adminToken) })).json();
    expect(agents).toHaveLength(1);
    expect((await c.app.inject({ url: '/v1/sd/targets?scrape=bogus', headers: auth(c.adminToken) })).statusCode).toBe(400);
  });
});

describe('agents\' metrics listeners', () => {
  it('certifies the key an agent sends with the agents CA, for its addresses, and tells it the scrape token', async () => {
    const c = await controller();
    const token = await scrapeToken(c);
    const agent = await register(c, 'media-1');
    const socket = await connect(c, agent.credential);
    socket.send({ type: 'hello', version: '0.1.0', protocol: 1, metrics: { port: 9811, host: '0.0.0.0', publicKey: metricsKey() } });
    const command = await socket.next('configure-metrics');
    expect(command.args.scrapeTokenHash).toBe(hashSecret(token));
    const cert = new X509Certificate(command.args.certPem as string);
    expect(cert.issuer).toBe('CN=test agents CA');
    expect(cert.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(cert.checkHost('media-1')).toBe('media-1');
    expect(cert.checkIP('0.0.0.0')).toBeUndefined();
    socket.send({ type: 'result', id: command.id, ok: true, data: { configured: true } });
    const targets = (await c.app.inject({ url: '/v1/sd/targets?scrape=cistern-agent', headers: auth(token) })).json();
    expect(targets[0].targets).toEqual(['192.168.1.20:9811']);
    // Rotating the token reaches the connected agent at once.
    const next = await scrapeToken(c);
    expect((await socket.next('configure-metrics')).args.scrapeTokenHash).toBe(hashSecret(next));
  });

  it('lists an agent without a listener nowhere, and counts heartbeats and registrations', async () => {
    const c = await controller();
    const agent = await register(c, 'media-1');
    const socket = await connect(c, agent.credential);
    socket.send({ type: 'hello', version: '0.1.0', protocol: 1 });
    socket.send({ type: 'heartbeat', seq: 0, sentAt: Date.now(), services: {} });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const targets = (await c.app.inject({ url: '/v1/sd/targets?scrape=cistern-agent', headers: auth(c.adminToken) })).json();
    expect(targets).toEqual([]);
    const body = (await c.app.inject({ url: '/metrics', headers: auth(c.adminToken) })).body;
    expect(body).toContain('cistern_heartbeat_latency_seconds_count 1');
    expect(body).toContain('cistern_registrations_total{via="token"} 1');
    expect(body).toMatch(/cistern_server_heartbeat_age_seconds\{server="media-1"\} [\d.]+/);
  });
});

describe('GET /v1/monitoring/setup', () => {
  it('gives the admin the URL and both CA certificates', async () => {
    const c = await controller();
    const setup = (await c.app.inject({ url: '/v1/monitoring/setup', headers: auth(c.adminToken) })).json();
    expect(setup).toMatchObject({ controllerUrl: 'https://controller.test:7443', scrapeToken: false });
    expect(setup.agentsCaPem).toContain('BEGIN CERTIFICATE');
    expect(setup.caPem).toContain('BEGIN CERTIFICATE');
  });
});

/**
 * The agent's connection when the controller answers the WebSocket upgrade with an HTTP error:
 * a passing refusal (a 503 from a controller shutting down or a proxy in front of it) is retried,
 * a final one (revoked, unknown) stops the connection for good. A plain-HTTP server stands in
 * for the controller (the connection turns http:// into ws://).
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { CisternError } from '../errors.js';
import { silentLogger } from '../util/logger.js';
import { AgentConnection } from './connection.js';

const LOAD = { load1: 0, cpuPercent: 0, memoryUsedBytes: 1, memoryTotalBytes: 2, diskUsedBytes: 1, diskTotalBytes: 2 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A controller stand-in: answers the first `refusals.length` upgrades with those errors, then accepts. */
async function fakeController(refusals: Array<{ status: number; code: string }>): Promise<{ url: string; upgrades: () => number; accepted: Promise<void> }> {
  const wss = new WebSocketServer({ noServer: true });
  let upgrades = 0;
  let accept: () => void = () => {};
  const accepted = new Promise<void>((resolve) => { accept = resolve; });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const refusal = refusals[upgrades++];
    if (refusal) {
      const body = JSON.stringify({ error: { code: refusal.code, message: `refused with ${refusal.code}` } });
      socket.end(`HTTP/1.1 ${refusal.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.once('message', () => accept()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, upgrades: () => upgrades, accepted };
}

function connect(url: string, onFatal: (error: CisternError) => void = () => {}): AgentConnection {
  const connection = new AgentConnection({
    credential: { agentId: 'a1', token: 'cag_00000000.secret', controllerUrl: url, caPem: 'unused over plain HTTP', caFingerprint: 'sha256:00' },
    logger: silentLogger(),
    intervalMs: 60_000,
    sampleLoad: async () => LOAD,
    handlers: { ping: async () => ({}), 'collect-facts': async () => ({}), 'apply-authorized-keys': async () => ({}), 'configure-metrics': async () => ({}), 'set-services': async () => ({}) },
    onFatal,
  });
  cleanups.push(() => connection.stop());
  connection.start();
  return connection;
}

describe('agent connection refused at the upgrade', () => {
  it('retries after a passing refusal (503) and connects', async () => {
    const controller = await fakeController([{ status: 503, code: 'E_INTERNAL' }]);
    const connection = connect(controller.url, (error) => { throw new Error(`not fatal: ${error.code}`); });
    await controller.accepted;
    expect(controller.upgrades()).toBe(2);
    expect(connection.connected).toBe(true);
  });

  it('stops for good when the agent is revoked', async () => {
    const controller = await fakeController([{ status: 403, code: 'E_AGENT_REVOKED' }, { status: 403, code: 'E_AGENT_REVOKED' }]);
    const fatal = await new Promise<CisternError>((resolve) => connect(controller.url, resolve));
    expect(fatal.code).toBe('E_AGENT_REVOKED');
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // longer than the first backoff delays
    expect(controller.upgrades()).toBe(1);
  });
});

describe('agent events', () => {
  it('keeps events while disconnected and sends them, in order, once connected', async () => {
    const received: Array<{ type: string; kind?: string }> = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => ws.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8')) as { type: string })));
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanups.push(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    });
    const address = wss.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const connection = new AgentConnection({
      credential: { agentId: 'a1', token: 'cag_00000000.secret', controllerUrl: url, caPem: 'unused', caFingerprint: 'sha256:00' },
      logger: silentLogger(), intervalMs: 60_000, sampleLoad: async () => LOAD, handlers: {} as never, onFatal: () => {},
    });
    cleanups.push(() => connection.stop());
    connection.sendEvent({ kind: 'service-restart', service: 'jellyfin', at: 1, data: { attempt: 1 } });
    connection.sendEvent({ kind: 'service-state', service: 'jellyfin', at: 2, data: { from: 'unhealthy', to: 'starting' } });
    connection.start();
    const deadline = Date.now() + 5_000;
    while (received.filter((m) => m.type === 'event').length < 3) {
      if (received.some((m) => m.type === 'hello') && received.filter((m) => m.type === 'event').length === 2) connection.sendEvent({ kind: 'service-state', service: 'jellyfin', at: 3, data: {} });
      if (Date.now() > deadline) throw new Error(`got ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const order = received.filter((m) => m.type !== 'heartbeat').map((m) => (m.type === 'event' ? `event ${String(m.kind)}` : m.type));
    expect(order).toEqual(['hello', 'event service-restart', 'event service-state', 'event service-state']);
  });
});

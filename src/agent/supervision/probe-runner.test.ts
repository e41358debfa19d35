import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../services/catalog.js';
import { probeVerdict } from '../../services/probe-verdict.js';
import type { HttpProbe, StatusProbe } from '../../services/schema.js';
import { runProbe } from './probe-runner.js';

const servers: Array<{ close(): unknown }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    (s as Server).closeAllConnections?.();
    s.close();
  }
});

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

/** An HTTP server on 127.0.0.1 and an ephemeral port; `handle` answers, or leaves the request hanging. */
async function serve(handle: (req: Seen, res: ServerResponse) => void): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      handle(r, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const catalog = (name: string) => {
  const found = CATALOG.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
};

describe('runProbe over HTTP', () => {
  it('sends the catalog probe to 127.0.0.1 with Host 127.0.0.1 and returns status, headers and body', async () => {
    const { port, seen } = await serve((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('Healthy'); });
    const jellyfin = catalog('jellyfin');
    const answer = await runProbe(jellyfin.probe, { port, timeoutMs: 2_000 });
    expect(answer).toMatchObject({ kind: 'http', status: 200, body: 'Healthy', headers: { 'content-type': 'text/plain' } });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1' } });
    expect(probeVerdict(jellyfin, answer).verdict).toBe('healthy');
  });

  it('does the Transmission session dance: a 409 with X-Transmission-Session-Id is asked again with the header', async () => {
    const { port, seen } = await serve((req, res) => {
      if (req.headers['x-transmission-session-id'] !== 'abc123') {
        res.writeHead(409, { 'X-Transmission-Session-Id': 'abc123' });
        res.end('<h1>409: Conflict</h1>');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"arguments":{"version":"4.0.6"},"result":"success"}');
    });
    const transmission = catalog('transmission');
    const cheap = await runProbe(transmission.probe, { port, timeoutMs: 2_000 });
    expect(probeVerdict(transmission, cheap)).toMatchObject({ verdict: 'healthy' });
    expect(cheap).toMatchObject({ status: 409 });
    const status = await runProbe(transmission.status_probe as StatusProbe, { port, timeoutMs: 2_000 });
    expect(status).toMatchObject({ kind: 'http', status: 200 });
    expect(probeVerdict(transmission, status, { probe: 'status_probe' }).verdict).toBe('healthy');
    expect(seen.map((r) => [r.method, r.headers['x-transmission-session-id'] ?? null, r.body])).toEqual([
      ['POST', null, ''],
      ['POST', null, '{"method":"session-get","arguments":{"fields":["version"]}}'],
      ['POST', 'abc123', '{"method":"session-get","arguments":{"fields":["version"]}}'],
    ]);
  });

  it('gives up at the timeout when the service accepts and never answers, retry included', async () => {
    const { port } = await serve(() => { /* hang */ });
    const started = performance.now();
    expect(await runProbe(catalog('jellyfin').probe, { port, timeoutMs: 200 })).toEqual({ kind: 'failed', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('reads a refused port, and a TLS probe against plain HTTP, as failures with their reason', async () => {
    const port = await closedPort();
    expect(await runProbe(catalog('jellyfin').probe, { port, timeoutMs: 1_000 })).toMatchObject({ kind: 'failed', reason: 'refused' });
    const plain = await serve((_req, res) => res.end('ok'));
    const tls: HttpProbe = { kind: 'http', path: '/', tls: true };
    expect(await runProbe(tls, { port: plain.port, timeoutMs: 1_000 })).toMatchObject({ kind: 'failed', reason: 'tls' });
  });

  it('sends a credential only when it has one: header with format, query, basic', async () => {
    const { port, seen } = await serve((_req, res) => res.end('{}'));
    const base = { kind: 'http', path: '/status?x=1' } as const;
    await runProbe({ ...base, auth: { kind: 'header', name: 'Authorization', format: 'MediaBrowser Token="{key}"' } }, { port, timeoutMs: 1_000 });
    await runProbe({ ...base, auth: { kind: 'header', name: 'Authorization', format: 'MediaBrowser Token="{key}"' } }, { port, timeoutMs: 1_000, credential: { key: 'k1' } });
    await runProbe({ ...base, auth: { kind: 'query', name: 'apikey' } }, { port, timeoutMs: 1_000, credential: { key: 'k 2' } });
    await runProbe({ ...base, auth: { kind: 'basic' } }, { port, timeoutMs: 1_000, credential: { user: 'u', password: 'p' } });
    expect(seen.map((r) => [r.url, r.headers.authorization ?? null])).toEqual([
      ['/status?x=1', null],
      ['/status?x=1', 'MediaBrowser Token="k1"'],
      ['/status?x=1&apikey=k%202', null],
      ['/status?x=1', `Basic ${Buffer.from('u:p').toString('base64')}`],
    ]);
  });

  it('reads no more than 64 KiB of a body', async () => {
    const { port } = await serve((_req, res) => { res.write('x'.repeat(200_000)); /* never ends */ });
    const answer = await runProbe({ kind: 'http', path: '/' }, { port, timeoutMs: 2_000 });
    expect(answer).toMatchObject({ kind: 'http', status: 200 });
    expect(answer.kind === 'http' && answer.body?.length).toBe(64 * 1024);
  });

  it('answers "unreachable" for a probe with no port at all', async () => {
    expect(await runProbe({ kind: 'tcp' }, { port: undefined, timeoutMs: 100 })).toMatchObject({ kind: 'failed', reason: 'unreachable' });
  });
});

describe('runProbe over TCP and as a command', () => {
  it('counts an accepted connection as an answer and a refused one as none', async () => {
    const { port } = await serve(() => {});
    expect(await runProbe({ kind: 'tcp' }, { port, timeoutMs: 1_000 })).toEqual({ kind: 'tcp' });
    expect(await runProbe({ kind: 'tcp', port: await closedPort() }, { port, timeoutMs: 1_000 })).toMatchObject({ kind: 'failed', reason: 'refused' });
  });

  it('returns the exit code; 127 for a missing program; a timeout kills the command', async () => {
    const run = (argv: string[], timeoutMs = 5_000) => runProbe({ kind: 'command', argv }, { port: undefined, timeoutMs });
    expect(await run(['true'])).toEqual({ kind: 'exit', code: 0 });
    expect(await run(['sh', '-c', 'exit 3'])).toEqual({ kind: 'exit', code: 3 });
    expect(await run(['/nonexistent/probe'])).toEqual({ kind: 'exit', code: 127 });
    const started = performance.now();
    expect(await run(['sleep', '5'], 200)).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

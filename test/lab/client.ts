/**
 * Clients that run inside a lab host, so their traffic starts where a real peer's would: the
 * test process itself sits in the root namespace, which can reach no lab address (and must not
 * try: from there a lab address would go out through the machine's default route).
 *
 * Each call is one short `node -e` in the host's namespace that prints one JSON line; every
 * wait inside it is bounded by `timeoutMs`, and the process itself by `timeoutMs` + 10 s.
 */
import { runOk } from '../support/process.js';

export interface HttpResult {
  /** undefined when no answer came: see `error`. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** Node's error code (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH…) or 'timeout' when no full answer came in time. */
  error?: string;
  ms: number;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface TcpResult {
  connected: boolean;
  /** The first line the server sent (an SSH banner, say), when asked to read. */
  firstLine?: string;
  error?: string;
  ms: number;
}

const HTTP_SCRIPT = `
const http = require('node:http');
const o = JSON.parse(process.argv[1]);
const started = performance.now();
const done = (r) => { process.stdout.write(JSON.stringify({ ...r, ms: performance.now() - started }) + '\\n'); process.exit(0); };
const req = http.request(o.url, { method: o.method, headers: o.headers, agent: false }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c) => { body += c; });
  res.on('end', () => done({ status: res.statusCode, headers: res.headers, body }));
  res.on('error', (e) => done({ headers: {}, body, error: e.code || e.message }));
});
req.setTimeout(o.timeoutMs, () => { done({ headers: {}, body: '', error: 'timeout' }); });
req.on('error', (e) => done({ headers: {}, body: '', error: e.code || e.message }));
req.end(o.body);
`;

const TCP_SCRIPT = `
const net = require('node:net');
const o = JSON.parse(process.argv[1]);
const started = performance.now();
const done = (r) => { process.stdout.write(JSON.stringify({ ...r, ms: performance.now() - started }) + '\\n'); process.exit(0); };
const socket = net.connect({ host: o.host, port: o.port });
const timer = setTimeout(() => done(socket.connecting ? { connected: false, error: 'timeout' } : { connected: true, error: 'timeout' }), o.timeoutMs);
let text = '';
socket.setEncoding('utf8');
socket.on('connect', () => { if (!o.readLine) done({ connected: true }); });
socket.on('data', (c) => { text += c; const i = text.indexOf('\\n'); if (i >= 0) done({ connected: true, firstLine: text.slice(0, i).replace(/\\r$/, '') }); });
socket.on('error', (e) => done({ connected: !socket.connecting && !!socket.remoteAddress, error: e.code || e.message }));
`;

async function nodeIn(namespace: string, script: string, input: unknown, timeoutMs: number): Promise<string> {
  const { stdout } = await runOk('ip', ['netns', 'exec', namespace, process.execPath, '-e', script, JSON.stringify(input)], { timeoutMs: timeoutMs + 10_000 });
  return stdout;
}

/** One HTTP request from inside `namespace`; never rejects for a network failure, which shows in `error`. */
export async function httpFrom(namespace: string, url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const input = { url, method: options.method ?? 'GET', headers: options.headers ?? {}, body: options.body, timeoutMs };
  return JSON.parse(await nodeIn(namespace, HTTP_SCRIPT, input, timeoutMs)) as HttpResult;
}

/** One TCP connection from inside `namespace`, optionally reading the first line the server sends. */
export async function tcpFrom(namespace: string, host: string, port: number, options: { readLine?: boolean; timeoutMs?: number } = {}): Promise<TcpResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return JSON.parse(await nodeIn(namespace, TCP_SCRIPT, { host, port, readLine: options.readLine ?? false, timeoutMs }, timeoutMs)) as TcpResult;
}

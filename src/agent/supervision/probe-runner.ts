/**
 * Runs one catalog probe against the service on this box (127.0.0.1) and returns the raw answer
 * for `probeVerdict` to judge. Never throws for what the service does: no answer is an answer
 * (`failed` with a reason). Every probe is bounded by `timeoutMs`, a retry included.
 *
 * - http: node:http(s), `Host: 127.0.0.1` (IP addresses pass Transmission's and SABnzbd's host
 *   checks), TLS without certificate checks (a local liveness probe, not an identity check),
 *   credentials only when the agent has them, and the `retry_with_header` dance (Transmission's
 *   409 with X-Transmission-Session-Id: the request once more with that header).
 * - tcp: a connection is an answer.
 * - command: argv without a shell; exit code 127 when the program is missing, 126 when it
 *   cannot be run (the shell's conventions, which `probeVerdict` reads as misconfigured).
 */
import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { ProbeAnswer } from '../../services/probe-verdict.js';
import type { HttpProbe, Probe } from '../../services/schema.js';

/** What the agent may send with a probe; none of it is ever logged. */
export interface ProbeCredential {
  key?: string;
  user?: string;
  password?: string;
}

export interface ProbeTarget {
  /** The service's port, for probes that do not name their own. */
  port: number | undefined;
  timeoutMs: number;
  credential?: ProbeCredential;
  /** Default 127.0.0.1: the agent probes the service on its own box. */
  host?: string;
}

export type ProbeRunner = (probe: Probe, target: ProbeTarget) => Promise<ProbeAnswer>;

/** The most of a body a probe reads: health answers are short. */
const MAX_BODY = 64 * 1024;

export const runProbe: ProbeRunner = async (probe, target) => {
  const host = target.host ?? '127.0.0.1';
  if (probe.kind === 'command') return runCommand(probe.argv, target.timeoutMs);
  const port = probe.port ?? target.port;
  if (port === undefined) return { kind: 'failed', reason: 'unreachable', message: 'the probe has no port and the service none either' };
  if (probe.kind === 'tcp') return tcpConnect(host, port, target.timeoutMs);
  return httpProbe(probe, { host, port, deadline: Date.now() + target.timeoutMs, credential: target.credential });
};

interface HttpTarget { host: string; port: number; deadline: number; credential: ProbeCredential | undefined }

async function httpProbe(probe: HttpProbe, target: HttpTarget): Promise<ProbeAnswer> {
  const { path, headers } = withCredential(probe, target.credential);
  const first = await httpOnce(probe, target, path, headers);
  const retry = probe.retry_with_header;
  if (first.kind !== 'http' || retry === undefined) return first;
  const value = headerOf(first.headers, retry);
  if (value === undefined || headerOf(headers, retry) !== undefined) return first;
  return httpOnce(probe, target, path, { ...headers, [retry]: value });
}

function withCredential(probe: HttpProbe, credential: ProbeCredential | undefined): { path: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { ...(probe.headers ?? {}) };
  if (headerOf(headers, 'host') === undefined) headers.host = '127.0.0.1';
  let path = probe.path;
  const auth = probe.auth;
  if (auth && credential) {
    if (auth.kind === 'header' && credential.key !== undefined) headers[auth.name] = (auth.format ?? '{key}').replaceAll('{key}', credential.key);
    if (auth.kind === 'query' && credential.key !== undefined) path += `${path.includes('?') ? '&' : '?'}${encodeURIComponent(auth.name)}=${encodeURIComponent(credential.key)}`;
    if (auth.kind === 'basic' && credential.user !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${credential.user}:${credential.password ?? ''}`).toString('base64')}`;
    }
  }
  if (probe.body !== undefined && headerOf(headers, 'content-length') === undefined) headers['content-length'] = String(Buffer.byteLength(probe.body));
  return { path, headers };
}

function httpOnce(probe: HttpProbe, target: HttpTarget, path: string, headers: Record<string, string>): Promise<ProbeAnswer> {
  const remaining = target.deadline - Date.now();
  if (remaining <= 0) return Promise.resolve({ kind: 'failed', reason: 'timeout' });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const options = { host: target.host, port: target.port, path, method: probe.method ?? 'GET', headers, agent: false as const };
    const req = probe.tls ? httpsRequest({ ...options, rejectUnauthorized: false }) : httpRequest(options);
    const timer = setTimeout(() => settle({ kind: 'failed', reason: 'timeout' }), remaining);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () => settle({ kind: 'http', status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY) return;
        chunks.push(chunk.subarray(0, MAX_BODY - size));
        size += chunk.length;
        if (size >= MAX_BODY) answer();
      });
      res.on('end', answer);
      res.on('error', (error) => settle(failure(error)));
    });
    req.on('error', (error) => settle(failure(error)));
    req.end(probe.body);
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const settle = (answer: ProbeAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ kind: 'failed', reason: 'timeout' }), timeoutMs);
    socket.once('connect', () => settle({ kind: 'tcp' }));
    socket.once('error', (error) => settle(failure(error)));
  });
}

function runCommand(argv: readonly string[], timeoutMs: number): Promise<ProbeAnswer> {
  const [program, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_BODY, windowsHide: true }, (error) => {
      if (!error) return resolve({ kind: 'exit', code: 0 });
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null; code?: number | string | null };
      if (e.killed && e.signal === 'SIGKILL') return resolve({ kind: 'failed', reason: 'timeout', message: `${program} ran longer than ${timeoutMs} ms` });
      if (e.code === 'ENOENT') return resolve({ kind: 'exit', code: 127 });
      if (e.code === 'EACCES' || e.code === 'ENOEXEC') return resolve({ kind: 'exit', code: 126 });
      if (typeof e.code === 'number') return resolve({ kind: 'exit', code: e.code });
      if (e.signal) return resolve({ kind: 'exit', code: null, signal: e.signal });
      resolve({ kind: 'failed', reason: 'unreachable', message: e.message });
    });
  });
}

/** A socket error as a probe answer. */
export function failure(error: NodeJS.ErrnoException): ProbeAnswer {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return { kind: 'failed', reason: 'refused', message: code };
  // HPE_*: Node's HTTP parser could not read the answer (something else on the port, or a wedge).
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code.startsWith('HPE_')) return { kind: 'failed', reason: 'reset', message: code || error.message };
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || /certificate|SSL|TLS/i.test(error.message)) return { kind: 'failed', reason: 'tls', message: code || error.message };
  if (code === 'ETIMEDOUT') return { kind: 'failed', reason: 'timeout', message: code };
  return { kind: 'failed', reason: 'unreachable', message: code || error.message };
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function headerOf(headers: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * Reachability of servers over the network: name resolution, a TCP connection to the SSH port,
 * the SSH identification banner, and the round-trip time of the TCP handshake. Checks run
 * concurrently with a bound, each with its own timeout; one slow host never holds up the rest.
 */
import { lookup, Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP, Socket } from 'node:net';
import pLimit from 'p-limit';

export interface CheckResult { ok: boolean; detail: string; ms?: number; skipped?: boolean }

export interface ConnectivityTarget { name: string; address: string; port: number }

export interface ConnectivityResult extends ConnectivityTarget {
  at: string;
  ok: boolean;
  rtt_ms: number | null;
  checks: { resolve: CheckResult; tcp: CheckResult; ssh_banner: CheckResult };
}

export interface ConnectivityOptions {
  timeoutMs: number;
  concurrency: number;
  onResult?: (result: ConnectivityResult, done: number, total: number) => void;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const skipped = (detail: string): CheckResult => ({ ok: false, skipped: true, detail });

/** Names in /etc/hosts, read once per run. */
let hostsFile: Promise<Map<string, string>> | undefined;
function etcHosts(): Promise<Map<string, string>> {
  hostsFile ??= readFile('/etc/hosts', 'utf8').then((text) => {
    const names = new Map<string, string>();
    for (const line of text.split('\n')) {
      const [ip, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (ip && isIP(ip)) for (const alias of aliases) if (!names.has(alias.toLowerCase())) names.set(alias.toLowerCase(), ip);
    }
    return names;
  }, () => new Map());
  return hostsFile;
}

/**
 * Resolves like the system does, without letting a dead resolver stall the run. getaddrinfo
 * cannot be cancelled and holds one of libuv's four pool threads until the system gives up,
 * so DNS names go through c-ares (cancelled at the timeout); getaddrinfo is kept for what
 * only the system knows: single-label names (search domains) and `.local` names (mDNS).
 */
async function lookupName(name: string, timeoutMs: number): Promise<string[]> {
  const hosted = (await etcHosts()).get(name.toLowerCase().replace(/\.$/, ''));
  if (hosted) return [hosted];
  if (!name.includes('.') || /\.local\.?$/i.test(name)) {
    return (await withTimeout(lookup(name, { all: true }), timeoutMs, 'name resolution')).map((a) => a.address);
  }
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  try {
    const [v4, v6] = await withTimeout(Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]), timeoutMs, 'name resolution');
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length > 0) return found;
    throw v4.status === 'rejected' ? v4.reason : new Error(`no addresses for ${name}`);
  } finally {
    resolver.cancel();
  }
}

async function resolveAddress(address: string, timeoutMs: number): Promise<{ check: CheckResult; ip?: string }> {
  if (isIP(address)) return { check: { ok: true, detail: 'IP address, nothing to resolve', ms: 0 }, ip: address };
  const started = performance.now();
  try {
    const found = await lookupName(address, timeoutMs);
    const ms = round(performance.now() - started);
    const first = found[0];
    if (!first) return { check: { ok: false, detail: 'no addresses', ms } };
    return { check: { ok: true, detail: found.join(', '), ms }, ip: first };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOTFOUND' || code === 'ENODATA' ? `cannot resolve ${address}` : code ? `${code}: cannot resolve ${address}` : (error as Error).message;
    return { check: { ok: false, detail, ms: round(performance.now() - started) } };
  }
}

/** Connects, measures the handshake, and reads the first line the server sends. */
function tcpAndBanner(ip: string, port: number, timeoutMs: number): Promise<{ tcp: CheckResult; banner: CheckResult }> {
  const where = isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  return new Promise((resolveResult) => {
    const started = performance.now();
    const socket = new Socket();
    let connectedMs: number | undefined;
    let buffer = '';
    let settled = false;
    const finish = (tcp: CheckResult, banner: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveResult({ tcp, banner });
    };
    const timer = setTimeout(() => {
      if (connectedMs === undefined) finish({ ok: false, detail: `no TCP answer in ${timeoutMs} ms` }, skipped('skipped: no TCP connection'));
      else finish({ ok: true, detail: `connected to ${where}`, ms: connectedMs }, { ok: false, detail: `no SSH banner in ${timeoutMs} ms` });
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.once('connect', () => { connectedMs = round(performance.now() - started); });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl === -1 && buffer.length < 256) return;
      const line = (nl === -1 ? buffer : buffer.slice(0, nl)).replace(/\r$/, '');
      const tcp = { ok: true, detail: `connected to ${where}`, ms: connectedMs ?? 0 };
      if (/^SSH-\d\.\d+-/.test(line)) finish(tcp, { ok: true, detail: line, ms: round(performance.now() - started) });
      else finish(tcp, { ok: false, detail: `not an SSH server: it said ${JSON.stringify(line.slice(0, 60))}` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (connectedMs === undefined) finish({ ok: false, detail: `${error.code ?? 'error'}: cannot connect to ${ip}:${port}` }, skipped('skipped: no TCP connection'));
      else finish({ ok: true, detail: `connected to ${where}`, ms: connectedMs }, { ok: false, detail: `${error.code ?? 'error'} before the SSH banner` });
    });
    socket.once('end', () => {
      if (connectedMs !== undefined) finish({ ok: true, detail: `connected to ${where}`, ms: connectedMs }, { ok: false, detail: 'connection closed before the SSH banner' });
    });
    socket.connect({ host: ip, port });
  });
}

export async function checkOne(target: ConnectivityTarget, timeoutMs: number): Promise<ConnectivityResult> {
  const at = new Date().toISOString();
  const { check: resolve, ip } = await resolveAddress(target.address, timeoutMs);
  if (!ip) {
    const detail = 'skipped: name did not resolve';
    return { ...target, at, ok: false, rtt_ms: null, checks: { resolve, tcp: skipped(detail), ssh_banner: skipped(detail) } };
  }
  const { tcp, banner } = await tcpAndBanner(ip, target.port, timeoutMs);
  return { ...target, at, ok: resolve.ok && tcp.ok && banner.ok, rtt_ms: tcp.ok ? (tcp.ms ?? null) : null, checks: { resolve, tcp, ssh_banner: banner } };
}

export async function checkConnectivity(targets: readonly ConnectivityTarget[], options: ConnectivityOptions): Promise<ConnectivityResult[]> {
  const limit = pLimit(Math.max(1, options.concurrency));
  let done = 0;
  return Promise.all(targets.map((target) => limit(async () => {
    const result = await checkOne(target, options.timeoutMs);
    options.onResult?.(result, ++done, targets.length);
    return result;
  })));
}

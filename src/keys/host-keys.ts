/**
 * Cistern's known_hosts, in OpenSSH's format (so `ssh-keygen -l -f` and `ssh-keygen -R` work on
 * it): one `HOST TYPE BASE64` line per pinned key, HOST being `name` for port 22 and
 * `[name]:port` otherwise. Pure: text in, entries and verdicts out.
 */
import { fingerprint } from './public-key.js';

export interface KnownHostEntry {
  /** 1-based line in the file. */
  line: number;
  patterns: string[];
  type: string;
  blob: Buffer;
}

export interface KnownHostsParse {
  entries: KnownHostEntry[];
  /** Lines that are not `HOST[,HOST...] TYPE BASE64 [COMMENT]`; Cistern never writes such lines. */
  problems: { line: number; message: string }[];
}

export type HostKeyVerdict =
  | { status: 'known'; fingerprint: string }
  | { status: 'new'; fingerprint: string }
  | { status: 'changed'; fingerprint: string; pinned: string[] };

export function hostPattern(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostsParse {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsParse['problems'] = [];
  text.split('\n').forEach((raw, index) => {
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const [hosts = '', type = '', base64 = ''] = content.split(/[ \t]+/);
    const line = index + 1;
    if (hosts.startsWith('@') || hosts.startsWith('|')) {
      problems.push({ line, message: 'markers (@revoked, @cert-authority) and hashed host names are not used in cistern\'s known_hosts' });
    } else if (type === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      problems.push({ line, message: 'expected HOST TYPE BASE64' });
    } else {
      entries.push({ line, patterns: hosts.toLowerCase().split(','), type, blob: Buffer.from(base64, 'base64') });
    }
  });
  return { entries, problems };
}

export function entriesFor(entries: readonly KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const pattern = hostPattern(host, port);
  return entries.filter((e) => e.patterns.includes(pattern));
}

/** What to make of the key a host offered: already pinned, first contact, or a different key. */
export function judgeHostKey(entries: readonly KnownHostEntry[], host: string, port: number, offered: Buffer): HostKeyVerdict {
  const pinned = entriesFor(entries, host, port);
  const print = fingerprint(offered);
  if (pinned.length === 0) return { status: 'new', fingerprint: print };
  if (pinned.some((e) => e.blob.equals(offered))) return { status: 'known', fingerprint: print };
  return { status: 'changed', fingerprint: print, pinned: pinned.map((e) => fingerprint(e.blob)) };
}

/** The known_hosts line that pins `blob` for host:port. */
export function knownHostLine(host: string, port: number, blob: Buffer): string {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return `${hostPattern(host, port)} ${type} ${blob.toString('base64')}`;
}

/**
 * Host key algorithms to offer for a host whose keys are pinned, so the server proves a key we
 * know rather than another of its keys (as OpenSSH does). Undefined: no preference.
 */
export function hostKeyAlgorithms(pinned: readonly KnownHostEntry[]): string[] | undefined {
  if (pinned.length === 0) return undefined;
  const algorithms = pinned.flatMap((e) => (e.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.type]));
  return [...new Set(algorithms)];
}

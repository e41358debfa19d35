/**
 * Cistern's own known_hosts file (`~/.config/cistern/known_hosts`, OpenSSH format; see
 * host-keys.ts): trust on first use. The first key a host offers is pinned and recorded; a
 * later, different key stops the operation for that host with E_HOST_KEY_CHANGED, naming both
 * fingerprints. The admin's ~/.ssh/known_hosts is never read or written.
 *
 * Pins are appended under an inter-process lock, re-reading the file first, so concurrent
 * connections (and concurrent cistern processes) never lose each other's pins.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CisternError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { entriesFor, hostKeyAlgorithms, hostPattern, judgeHostKey, knownHostLine, parseKnownHosts, type KnownHostEntry } from './host-keys.js';

export function knownHostsPath(configDir: string): string {
  return join(configDir, 'known_hosts');
}

export interface HostKeyCheck {
  fingerprint: string;
  /** True when this contact pinned the key (first contact); false when it was already known. */
  pinned: boolean;
}

export interface KnownHosts {
  readonly file: string;
  /** Host key algorithms to offer host:port, from its pinned keys; undefined when none are pinned. */
  algorithms(host: string, port: number): Promise<string[] | undefined>;
  /** Accepts a pinned key, pins a new one, and throws E_HOST_KEY_CHANGED for a different one. */
  verify(host: string, port: number, key: Buffer): Promise<HostKeyCheck>;
}

async function readEntries(file: string): Promise<{ text: string; entries: KnownHostEntry[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', entries: [] };
    throw new CisternError('E_KNOWN_HOSTS', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const { entries, problems } = parseKnownHosts(text);
  const problem = problems[0];
  if (problem) {
    throw new CisternError('E_KNOWN_HOSTS', `${file}:${problem.line}: ${problem.message}`, {
      hint: 'fix or delete that line; Cistern pins a host again on the next contact when it has no line',
    });
  }
  return { text, entries };
}

function changedError(file: string, host: string, port: number, offered: string, pinned: readonly string[]): CisternError {
  return new CisternError(
    'E_HOST_KEY_CHANGED',
    `the host key of ${host}:${port} has changed: ${file} pins ${pinned.join(', ')} but the server offered ${offered}`,
    {
      hint: `if the server was reinstalled or its host keys regenerated, remove the old pin with \`ssh-keygen -R '${hostPattern(host, port)}' -f ${file}\`; otherwise someone may be intercepting the connection`,
      details: { host, port, pinned, offered, file },
    },
  );
}

export function openKnownHosts(file: string): KnownHosts {
  // Serializes this process's pins; the lock file serializes them with other processes.
  let queue: Promise<unknown> = Promise.resolve();

  const pin = async (host: string, port: number, key: Buffer): Promise<HostKeyCheck> => {
    let release: () => Promise<void>;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      release = await lockfile.lock(file, { realpath: false, stale: 10_000, retries: { retries: 100, minTimeout: 10, maxTimeout: 100 } });
    } catch (error) {
      throw new CisternError('E_KNOWN_HOSTS', `cannot lock ${file} to pin the host key of ${host}:${port}: ${(error as Error).message}`, {
        cause: error, hint: `if no cistern process runs, remove ${file}.lock`,
      });
    }
    try {
      const { text, entries } = await readEntries(file);
      const verdict = judgeHostKey(entries, host, port, key);
      if (verdict.status === 'changed') throw changedError(file, host, port, verdict.fingerprint, verdict.pinned);
      if (verdict.status === 'known') return { fingerprint: verdict.fingerprint, pinned: false };
      const separator = text === '' || text.endsWith('\n') ? '' : '\n';
      await writeFileAtomic(file, `${text}${separator}${knownHostLine(host, port, key)}\n`, { mode: 0o600 }).catch((error: unknown) => {
        throw new CisternError('E_KNOWN_HOSTS', `cannot write ${file}: ${(error as Error).message}`, { cause: error });
      });
      return { fingerprint: verdict.fingerprint, pinned: true };
    } finally {
      await release();
    }
  };

  return {
    file,
    async algorithms(host, port) {
      return hostKeyAlgorithms(entriesFor((await readEntries(file)).entries, host, port));
    },
    async verify(host, port, key) {
      const verdict = judgeHostKey((await readEntries(file)).entries, host, port, key);
      if (verdict.status === 'changed') throw changedError(file, host, port, verdict.fingerprint, verdict.pinned);
      if (verdict.status === 'known') return { fingerprint: verdict.fingerprint, pinned: false };
      const next = queue.then(() => pin(host, port, key));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/**
 * A real OpenSSH server (Debian's openssh-server) for system tests, listening on 127.0.0.1
 * inside a network namespace (see netns.ts), with a throwaway host key and no way to log in:
 * the tests need its banner and its TCP behaviour, never a session.
 *
 * Needs root: sshd insists on it for privilege separation.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkNamespace } from './netns.js';
import { runOk } from './process.js';

export const SSHD = '/usr/sbin/sshd';
/** sshd's privilege separation directory, compiled into Debian's build; it must exist. */
export const PRIVSEP_DIR = '/run/sshd';

export interface Sshd {
  readonly port: number;
  readonly pid: number;
  /** Everything sshd has logged so far (it runs with -e, logging to stderr). */
  log(): string;
  /**
   * Waits until sshd logs a line matching `pattern` after the first `since` characters of its
   * log; sshd logs a connection only after the client has gone, so the log lags the client.
   */
  waitForLog(pattern: RegExp, since?: number, timeoutMs?: number): Promise<void>;
  /** Stops sshd and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'run `bash scripts/ensure-test-deps.sh` as root to install the system test dependencies';

/** Fails with a message that says what to do, rather than letting a test fail obscurely or skip. */
export function assertSshdPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('the OpenSSH system tests must run as root (sshd and `ip netns` need it)');
  for (const file of [SSHD, '/usr/bin/ssh-keygen', '/usr/sbin/ip']) {
    if (!existsSync(file)) throw new Error(`${file} is missing: ${INSTALL_HINT}`);
  }
}

/**
 * sshd_config for a server with its host key in `dir` (made by `ssh-keygen … -f DIR/host_key`)
 * that shows its banner and lets nobody in. The lab (test/lab) listens on its host's address.
 */
export function sshdConfig(dir: string, port: number, listenAddress = '127.0.0.1'): string {
  return [
    '# Written by test/support/sshd.ts: a banner to read, nobody to log in.',
    `ListenAddress ${listenAddress}`,
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'PermitRootLogin no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile none',
    '',
  ].join('\n');
}

/**
 * Writes a throwaway host key and the config into `dir`, makes sure the privilege separation
 * directory exists, and returns the config's path (for `sshd -f`).
 */
export async function writeSshdFiles(dir: string, port: number, listenAddress = '127.0.0.1'): Promise<string> {
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cistern-test', '-f', join(dir, 'host_key')], { timeoutMs: 10_000 });
  mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const config = join(dir, 'sshd_config');
  writeFileSync(config, sshdConfig(dir, port, listenAddress));
  return config;
}

/** Resolves when `pattern` shows up in what `read` returns; rejects if the child exits first or time runs out. */
function waitForLog(child: ChildProcess, read: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr?.off('data', check);
      child.off('exit', exited);
    };
    const check = () => {
      if (pattern.test(read())) { cleanup(); resolve(); }
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`sshd exited (${code ?? signal}) before logging ${String(pattern)}:\n${read()}`));
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`sshd did not log ${String(pattern)} in ${timeoutMs} ms:\n${read()}`)); }, timeoutMs);
    child.stderr?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', exited); resolve(false); }, timeoutMs);
    const exited = () => { clearTimeout(timer); resolve(true); };
    child.once('exit', exited);
  });
}

export async function startSshd(ns: NetworkNamespace, port: number, readyTimeoutMs = 15_000): Promise<Sshd> {
  assertSshdPrerequisites();
  const dir = mkdtempSync(join(tmpdir(), 'cistern-sshd-'));
  let child: ChildProcess | undefined;
  let stopped = false;
  let log = '';

  // Safety net for a test process that exits without running afterAll.
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    try {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 5_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    const config = await writeSshdFiles(dir, port);
    // -D: stay in the foreground, so killing this child kills sshd; -e: log to stderr, so a
    // failure to start explains itself. `ip netns exec` execs sshd, so the child *is* sshd.
    child = ns.spawn(SSHD, ['-D', '-e', '-f', config]);
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { log += chunk; });
    const started = child;
    await waitForLog(started, () => log, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}\\b`), readyTimeoutMs);
    if (started.pid === undefined) throw new Error('sshd has no pid');
    return {
      port,
      pid: started.pid,
      log: () => log,
      waitForLog: (pattern, since = 0, timeoutMs = 5_000) => waitForLog(started, () => log.slice(since), pattern, timeoutMs),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The OpenSSH version sshd reports, e.g. "OpenSSH_9.2": its banner must carry the same. */
export function sshdVersion(): string {
  // `sshd -V` prints its version on stderr (and exits 1 on older releases, so no runOk).
  const { stderr } = spawnSync(SSHD, ['-V'], { encoding: 'utf8', timeout: 5_000 });
  const version = /OpenSSH_[\w.]+/.exec(stderr)?.[0];
  if (!version) throw new Error(`cannot read the version of ${SSHD}: ${stderr}`);
  return version;
}

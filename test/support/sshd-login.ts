/**
 * A real OpenSSH server (Debian's openssh-server) that lets root log in with keys, for system
 * tests that change a deploy user's authorized_keys, isolated so that no real file is touched.
 *
 * Isolation: root's sessions are chrooted (`ChrootDirectory`) into a throwaway folder, with
 * sftp served by sshd itself (`internal-sftp`, forced). Inside, root's home /root is
 * CHROOT/root, so a client that edits `~/.ssh/authorized_keys` over SFTP edits
 * CHROOT/root/.ssh/authorized_keys, and sshd is told to read exactly that file
 * (`AuthorizedKeysFile`) plus an optional admin file outside the chroot, for a bootstrap key
 * the test gives without an authorized_keys. The machine's /root/.ssh is never read or written.
 *
 * The folder is made under /run, not /tmp: sshd refuses a chroot with any path component that
 * is group- or world-writable, as /tmp is.
 *
 * Needs root, and runs inside a network namespace (see netns.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkNamespace } from './netns.js';
import { runOk } from './process.js';
import { SSHD, assertSshdPrerequisites } from './sshd.js';

export interface LoginSshd {
  readonly port: number;
  /** The deploy user's authorized_keys on disk (root's ~/.ssh/authorized_keys in the chroot). */
  readonly authorizedKeys: string;
  /** The fingerprint of the current host key, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint(): Promise<string>;
  /** Everything sshd has logged so far. */
  log(): string;
  /** Stops sshd and starts it again on the same port, with a fresh host key when asked. */
  restart(options?: { newHostKey?: boolean }): Promise<void>;
  /** Stops sshd and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

export interface LoginSshdOptions {
  /** Text of root's ~/.ssh/authorized_keys; absent: no ~/.ssh at all. */
  authorizedKeys?: string;
  /** Keys sshd also accepts, from a file outside the chroot that no client can change. */
  adminKeys?: string;
}

const BASE = '/run';

function config(dir: string, port: number): string {
  return [
    '# Written by test/support/sshd-login.ts: root logs in with keys, chrooted, SFTP only.',
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'AllowUsers root',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${join(dir, 'admin_keys')} ${join(dir, 'chroot', 'root', '.ssh', 'authorized_keys')}`,
    `ChrootDirectory ${join(dir, 'chroot')}`,
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    '',
  ].join('\n');
}

function waitFor(child: ChildProcess, read: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stderr?.off('data', check);
      child.off('exit', exited);
      if (error) reject(error);
      else resolve();
    };
    const check = () => { if (pattern.test(read())) done(); };
    const exited = (code: number | null) => done(new Error(`sshd exited (${code}) before logging ${String(pattern)}:\n${read()}`));
    const timer = setTimeout(() => done(new Error(`sshd did not log ${String(pattern)} in ${timeoutMs} ms:\n${read()}`)), timeoutMs);
    child.stderr?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

export async function startLoginSshd(ns: NetworkNamespace, port: number, options: LoginSshdOptions = {}): Promise<LoginSshd> {
  assertSshdPrerequisites();
  const base = statSync(BASE);
  if (base.uid !== 0 || (base.mode & 0o022) !== 0) throw new Error(`${BASE} must be owned by root and writable by nobody else, for sshd's chroot checks`);
  const dir = mkdtempSync(join(BASE, 'cistern-keys-test-'));
  const home = join(dir, 'chroot', 'root');
  const authorizedKeys = join(home, '.ssh', 'authorized_keys');
  let child: ChildProcess | undefined;
  let log = '';
  let stopped = false;

  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const newHostKey = async () => {
    rmSync(join(dir, 'host_key'), { force: true });
    rmSync(join(dir, 'host_key.pub'), { force: true });
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cistern-keys-test', '-f', join(dir, 'host_key')], { timeoutMs: 10_000 });
  };

  const start = async () => {
    log = '';
    // -D: foreground, so stopping this child stops sshd; -e: log to stderr.
    const started = ns.spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')]);
    child = started;
    started.stdout?.resume();
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => { log += chunk; });
    await waitFor(started, () => log, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}\\b`), 15_000);
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    try {
      await stopChild(child);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    chmodSync(dir, 0o755);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(join(dir, 'chroot'), 0o755);
    if (options.authorizedKeys !== undefined) {
      mkdirSync(join(home, '.ssh'), { mode: 0o700 });
      writeFileSync(authorizedKeys, options.authorizedKeys, { mode: 0o600 });
    }
    writeFileSync(join(dir, 'admin_keys'), options.adminKeys ?? '', { mode: 0o600 });
    writeFileSync(join(dir, 'sshd_config'), config(dir, port));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
    await newHostKey();
    await start();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    authorizedKeys,
    async hostKeyFingerprint() {
      const { stdout } = await runOk('ssh-keygen', ['-l', '-f', join(dir, 'host_key.pub')]);
      const print = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)?.[0];
      if (!print) throw new Error(`no fingerprint in: ${stdout}`);
      return print;
    },
    log: () => log,
    async restart(restartOptions = {}) {
      await stopChild(child);
      if (restartOptions.newHostKey) await newHostKey();
      await start();
    },
    stop,
  };
}

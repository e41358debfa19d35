/**
 * `cistern keys sync|rotate` against real OpenSSH servers (Debian's openssh-server), end to end
 * through the built CLI, everything inside a network namespace that has only loopback.
 *
 * Two sshd instances let root log in with keys. Each is chrooted into its own throwaway folder
 * under /run (see support/sshd-login.ts), so root's ~/.ssh/authorized_keys there is a temp file:
 * the machine's /root/.ssh is never read or written, by the servers or by the `sftp` client
 * used to test logins (it runs with -F /dev/null and throwaway known_hosts).
 *
 *   alpha   has an authorized_keys with a foreign line: the admin's bootstrap key F
 *   beta    has no ~/.ssh at all; sshd also accepts F from a file outside the chroot
 *   closed  a port where nothing listens
 *
 * Needs: root; openssh-server, openssh-client, iproute2; a built CLI (`npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, assertBuilt } from './support/cistern.js';
import { createNetworkNamespace, type NetworkNamespace } from './support/netns.js';
import { runOk, type RunResult } from './support/process.js';
import { assertSshdPrerequisites } from './support/sshd.js';
import { startLoginSshd, type LoginSshd } from './support/sshd-login.js';

const ALPHA_PORT = 20_000 + Math.floor(Math.random() * 40_000);
const BETA_PORT = ALPHA_PORT + 1;
const CLOSED_PORT = ALPHA_PORT + 2;
const BEGIN = '# BEGIN cistern managed keys — do not edit';
const END = '# END cistern managed keys';

interface SyncRow {
  server: string; address: string; via: string; ok: boolean; changed: boolean; keys: string[]; added: string[]; removed: string[];
  host_key: { fingerprint: string; pinned: boolean } | null;
  error: { code: string; message: string; details?: { pinned: string[]; offered: string } } | null;
}
interface SyncJson { ok: boolean; known_hosts: string; results: SyncRow[] }

describe('keys sync and rotate against real OpenSSH servers', () => {
  let ns: NetworkNamespace | undefined;
  let alpha: LoginSshd | undefined;
  let beta: LoginSshd | undefined;
  let work = '';
  let inventory = '';
  let alphaOriginal = '';
  const key = (name: string) => join(work, name);
  const pub = (name: string) => readFileSync(`${key(name)}.pub`, 'utf8').trim();

  beforeAll(async () => {
    assertBuilt();
    assertSshdPrerequisites();
    work = mkdtempSync(join(tmpdir(), 'cistern-keys-'));
    mkdirSync(join(work, 'home'));
    for (const name of ['bootstrap', 'key-a', 'key-b']) {
      await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', key(name)]);
    }
    writeFileSync(join(work, 'batch'), 'pwd\n');
    alphaOriginal = `# put here by hand, not by cistern\n${pub('bootstrap')}\n`;
    ns = await createNetworkNamespace();
    alpha = await startLoginSshd(ns, ALPHA_PORT, { authorizedKeys: alphaOriginal });
    beta = await startLoginSshd(ns, BETA_PORT, { adminKeys: `${pub('bootstrap')}\n` });
    inventory = join(work, 'inventory.yaml');
    writeFileSync(inventory, `servers:
  alpha:
    hostname: alpha.invalid
    address: 127.0.0.1
    tags: [up]
    ssh: {port: ${ALPHA_PORT}}
  beta:
    hostname: beta.invalid
    address: 127.0.0.1
    tags: [up]
    ssh: {port: ${BETA_PORT}, user: root}
  closed:
    hostname: closed.invalid
    address: 127.0.0.1
    ssh: {port: ${CLOSED_PORT}}
ssh_keys:
  - name: admin-laptop
    key: ${pub('key-a')}
`);
  });

  afterAll(async () => {
    try {
      await alpha?.stop();
      await beta?.stop();
    } finally {
      await ns?.remove();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  /** The built CLI, inside the namespace, with its config (known_hosts) in the test's folder. */
  function cistern(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    if (!ns) throw new Error('no namespace (see beforeAll)');
    const base = { ...process.env };
    delete base.SSH_AUTH_SOCK;
    return ns.exec(process.execPath, [BIN, ...args, '--file', inventory], {
      env: { ...base, NO_COLOR: '1', HOME: join(work, 'home'), XDG_CONFIG_HOME: join(work, 'config'), ...env },
      timeoutMs: 60_000,
    });
  }

  const knownHosts = () => join(work, 'config', 'cistern', 'known_hosts');

  function parse(result: RunResult): SyncJson {
    try {
      return JSON.parse(result.stdout) as SyncJson;
    } catch {
      throw new Error(`no JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
  }
  const row = (json: SyncJson, server: string) => {
    const found = json.results.find((r) => r.server === server);
    if (!found) throw new Error(`no row for ${server}: ${JSON.stringify(json)}`);
    return found;
  };

  /** Logs in with OpenSSH's sftp client and only the given key: did the server accept it? */
  async function logsIn(keyName: string, port: number): Promise<{ ok: boolean; stderr: string }> {
    if (!ns) throw new Error('no namespace');
    const result = await ns.exec('sftp', [
      '-F', '/dev/null', '-b', join(work, 'batch'), '-i', key(keyName), '-P', String(port),
      '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null',
      'root@127.0.0.1',
    ], { env: { ...process.env, HOME: join(work, 'home') }, timeoutMs: 30_000 });
    return { ok: result.code === 0, stderr: result.stderr };
  }

  it('installs the managed block on first sync, keeps the foreign line, and pins each host key', async () => {
    if (!alpha || !beta) throw new Error('no sshd');
    expect((await logsIn('key-a', ALPHA_PORT)).ok, 'key A before any sync').toBe(false);

    const result = await cistern(['keys', 'sync', '--on', 'tag:up', '--identity', key('bootstrap'), '--json']);
    expect(result.code, result.stderr || result.stdout).toBe(0);
    const json = parse(result);
    expect(json.ok).toBe(true);
    expect(json.known_hosts).toBe(knownHosts());
    for (const [name, sshd] of [['alpha', alpha], ['beta', beta]] as const) {
      expect(row(json, name)).toMatchObject({
        ok: true, via: 'ssh', changed: true, keys: ['admin-laptop'], added: ['admin-laptop'], removed: [], error: null,
        host_key: { fingerprint: await sshd.hostKeyFingerprint(), pinned: true },
      });
    }

    // Every byte of alpha's file is still there, followed by the block.
    const block = `${BEGIN}\n# key: admin-laptop\n${pub('key-a')}\n${END}\n`;
    expect(readFileSync(alpha.authorizedKeys, 'utf8')).toBe(alphaOriginal + block);
    expect(statSync(alpha.authorizedKeys).mode & 0o777).toBe(0o600);
    // beta had no ~/.ssh: created 0700, the file 0600.
    expect(readFileSync(beta.authorizedKeys, 'utf8')).toBe(block);
    expect(statSync(join(beta.authorizedKeys, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(beta.authorizedKeys).mode & 0o777).toBe(0o600);

    // Pinned on first contact, in OpenSSH's format.
    const pins = readFileSync(knownHosts(), 'utf8').split('\n').filter(Boolean);
    expect(pins.map((l) => l.split(' ').slice(0, 2).join(' ')).sort()).toEqual([`[127.0.0.1]:${ALPHA_PORT} ssh-ed25519`, `[127.0.0.1]:${BETA_PORT} ssh-ed25519`]);

    expect((await logsIn('key-a', ALPHA_PORT)).ok, 'key A logs in to alpha').toBe(true);
    expect((await logsIn('key-a', BETA_PORT)).ok, 'key A logs in to beta').toBe(true);
  });

  it('changes nothing on a second sync, and logs in through ssh-agent without --identity', async () => {
    if (!alpha) throw new Error('no sshd');
    const socket = join(work, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      await runOk('ssh-add', ['-q', key('bootstrap')], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const before = readFileSync(alpha.authorizedKeys, 'utf8');
      const result = await cistern(['keys', 'sync', '--on', 'tag:up', '--json'], { SSH_AUTH_SOCK: socket });
      expect(result.code, result.stderr || result.stdout).toBe(0);
      const json = parse(result);
      expect(json.results.map((r) => [r.server, r.ok, r.changed, r.host_key?.pinned])).toEqual([['alpha', true, false, false], ['beta', true, false, false]]);
      expect(readFileSync(alpha.authorizedKeys, 'utf8')).toBe(before);
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('rotates key A to key B: B logs in, A is refused, the foreign line stays', async () => {
    if (!alpha || !beta) throw new Error('no sshd');
    const result = await cistern(['keys', 'rotate', 'admin-laptop', '--key', pub('key-b'), '--on', 'tag:up', '--identity', key('bootstrap')]);
    expect(result.code, result.stderr || result.stdout).toBe(0);
    expect(result.stdout).toContain('rotated key admin-laptop at the fleet level');
    expect(result.stdout).toMatch(/^alpha\s+127\.0\.0\.1:\d+\s+root\s+ssh\s+updated\s+1\s+\+admin-laptop -admin-laptop\s+SHA256:/m);
    expect(result.stdout).toContain('all 2 servers in sync (2 updated)');
    expect(readFileSync(inventory, 'utf8')).toContain(`    key: ${pub('key-b')}\n`);

    expect(readFileSync(alpha.authorizedKeys, 'utf8')).toBe(`${alphaOriginal}${BEGIN}\n# key: admin-laptop\n${pub('key-b')}\n${END}\n`);
    for (const port of [ALPHA_PORT, BETA_PORT]) {
      expect((await logsIn('key-b', port)).ok, `key B logs in on ${port}`).toBe(true);
      const refused = await logsIn('key-a', port);
      expect(refused.ok, `key A is refused on ${port}`).toBe(false);
      expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
    }
    expect((await logsIn('bootstrap', ALPHA_PORT)).ok, 'the foreign line still works').toBe(true);
  });

  it('reports an unreachable host in the table and exits 1, the others still synced', async () => {
    const result = await cistern(['keys', 'sync', '--identity', key('bootstrap'), '--timeout', '10s']);
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((l) => /^SERVER\s+ADDRESS\s+USER\s+VIA\s+RESULT\s+KEYS\s+CHANGES\s+HOST KEY$/.test(l));
    expect(header, result.stdout).toBeGreaterThanOrEqual(0);
    expect(lines[header + 1]).toMatch(/^alpha\s+127\.0\.0\.1:\d+\s+root\s+ssh\s+unchanged\s+1\s+-\s+SHA256:/);
    expect(lines[header + 2]).toMatch(/^beta\s+.*\s+unchanged\s/);
    expect(lines[header + 3]).toMatch(new RegExp(`^closed\\s+127\\.0\\.0\\.1:${CLOSED_PORT}\\s+root\\s+ssh\\s+FAILED\\s+1\\s+-\\s+-$`));
    expect(result.stdout).toContain(`closed: error[E_SSH_CONNECT]: ECONNREFUSED: cannot connect to 127.0.0.1:${CLOSED_PORT}`);
    expect(result.stdout).toContain('1 of 3 servers failed (0 updated)');
  });

  it('stops a host whose host key changed with E_HOST_KEY_CHANGED, naming both fingerprints; the other host succeeds', async () => {
    if (!alpha || !beta) throw new Error('no sshd');
    const pinned = await beta.hostKeyFingerprint();
    await beta.restart({ newHostKey: true });
    const offered = await beta.hostKeyFingerprint();
    expect(offered).not.toBe(pinned);
    // A change for alpha, so a successful write shows next to the refusal.
    const rotate = await cistern(['keys', 'rotate', 'admin-laptop', '--key', pub('key-a'), '--no-sync']);
    expect(rotate.code, rotate.stderr).toBe(0);
    const betaBefore = readFileSync(beta.authorizedKeys, 'utf8');

    const result = await cistern(['keys', 'sync', '--on', 'tag:up', '--identity', key('bootstrap'), '--json']);
    expect(result.code, result.stdout).toBe(1);
    const json = parse(result);
    expect(json.ok).toBe(false);
    expect(row(json, 'alpha')).toMatchObject({ ok: true, changed: true, added: ['admin-laptop'] });
    const refused = row(json, 'beta');
    expect(refused).toMatchObject({ ok: false, changed: false, host_key: null, error: { code: 'E_HOST_KEY_CHANGED', details: { pinned: [pinned], offered } } });
    expect(refused.error?.message).toContain(pinned);
    expect(refused.error?.message).toContain(offered);
    expect(refused.error?.message).toMatch(/^the host key of 127\.0\.0\.1:\d+ has changed: .*known_hosts pins SHA256:\S+ but the server offered SHA256:\S+$/);
    // Nothing was sent to beta: its file is as it was, and sshd authenticated nobody.
    expect(readFileSync(beta.authorizedKeys, 'utf8')).toBe(betaBefore);
    expect(beta.log()).not.toMatch(/Accepted publickey/);
    // The pin is kept: the next sync refuses again rather than trusting the new key.
    expect(readFileSync(knownHosts(), 'utf8')).not.toContain(offered);

    const text = await cistern(['keys', 'sync', '--on', 'tag:up', '--identity', key('bootstrap')]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`beta: error\\[E_HOST_KEY_CHANGED\\]: .*${pinned.replace(/[+/]/g, '\\$&')}.*${offered.replace(/[+/]/g, '\\$&')}`));
  });

  it('refuses to touch a file whose markers are broken (saying which lines) or that is a symbolic link', async () => {
    if (!alpha) throw new Error('no sshd');
    const broken = `${readFileSync(alpha.authorizedKeys, 'utf8')}${BEGIN}\n`;
    writeFileSync(alpha.authorizedKeys, broken, { mode: 0o600 });
    const result = await cistern(['keys', 'sync', '--on', 'alpha', '--identity', key('bootstrap'), '--json']);
    expect(result.code).toBe(1);
    expect(row(parse(result), 'alpha').error).toMatchObject({
      code: 'E_AUTHORIZED_KEYS',
      message: '/root/.ssh/authorized_keys: authorized_keys has 2 BEGIN markers of the cistern block (lines 3, 7)',
    });
    expect(readFileSync(alpha.authorizedKeys, 'utf8')).toBe(broken);

    // A symbolic link is refused too: replacing it would detach the file it points to.
    const target = join(alpha.authorizedKeys, '..', 'real_keys');
    renameSync(alpha.authorizedKeys, target);
    symlinkSync('real_keys', alpha.authorizedKeys);
    const linked = await cistern(['keys', 'sync', '--on', 'alpha', '--identity', key('bootstrap'), '--json']);
    expect(linked.code).toBe(1);
    expect(row(parse(linked), 'alpha').error).toMatchObject({ code: 'E_AUTHORIZED_KEYS', message: '/root/.ssh/authorized_keys is a symbolic link, so Cistern will not replace it' });
    expect(lstatSync(alpha.authorizedKeys).isSymbolicLink()).toBe(true);
  });
});

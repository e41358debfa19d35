/**
 * `cistern keys sync|rotate` through agents: a real controller and real agents on loopback
 * (test/support/fleet.ts), driven through the built CLI. The agents run as root, like on a
 * server, and write the authorized_keys of a real account: a throwaway user made with
 * useradd(8) for this file (`cistern-t` and random hex, home in a temp folder, no password, no
 * shell), removed in afterAll. The machine's own accounts and their files are never touched.
 *
 *   alpha    agent connected; ssh.user is the throwaway user
 *   beta     agent connected; ssh.user is a user that does not exist on the machine
 *   newbox   no agent (a box being bootstrapped); its SSH port is closed
 *
 * Needs: root, useradd/userdel (Debian's passwd package), a built CLI (`npm run build`).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupUser, type PasswdEntry } from '../src/keys/passwd.js';
import { ED25519, RSA } from '../src/testing/ssh-keys.js';
import { assertBuilt } from './support/cistern.js';
import { FleetLab, type Agent, type Controller } from './support/fleet.js';
import { run, runOk } from './support/process.js';

const BEGIN = '# BEGIN cistern managed keys — do not edit';
const END = '# END cistern managed keys';
const FOREIGN = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBh+EhP3N/FvYgvcwj4HPh5RrXr6tUHnBrOqAcY5VcQ2 added-by-hand';

interface SyncRow {
  server: string; via: string; ok: boolean; changed: boolean; keys: string[]; added: string[]; removed: string[]; path: string | null;
  host_key: unknown; error: { code: string | null; message: string; hint?: string } | null;
}
interface SyncJson { ok: boolean; warnings: string[]; results: SyncRow[] }

/** A loopback port where nothing listens (it did a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('keys sync through agents', () => {
  const lab = new FleetLab();
  const userName = `cistern-t${randomBytes(4).toString('hex')}`;
  let user: PasswdEntry | undefined;
  let userMade = false;
  let work = '';
  let inventory = '';
  let identity = '';
  let controller: Controller;
  let sshPort = 0;
  const agents = new Map<string, Agent>();

  const home = () => join(work, 'home', userName);
  const keysFile = () => join(home(), '.ssh', 'authorized_keys');
  const block = (...keys: Array<[string, string]>) => `${BEGIN}\n${keys.map(([name, key]) => `# key: ${name}\n${key}\n`).join('')}${END}\n`;

  async function cistern(args: readonly string[]) {
    return lab.cli(controller, [...args, '--file', inventory], 30_000);
  }
  async function syncJson(args: readonly string[]): Promise<{ code: number | null; json: SyncJson }> {
    const result = await cistern([...args, '--json']);
    try {
      return { code: result.code, json: JSON.parse(result.stdout) as SyncJson };
    } catch {
      throw new Error(`no JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}\n${lab.describe()}`);
    }
  }
  const row = (json: SyncJson, server: string) => {
    const found = json.results.find((r) => r.server === server);
    if (!found) throw new Error(`no row for ${server}: ${JSON.stringify(json)}`);
    return found;
  };

  async function connectedAgent(name: string): Promise<void> {
    const token = await lab.createToken(controller, { uses: 1 });
    const agent = lab.startAgent({ token, name });
    agents.set(name, agent);
    expect(await lab.waitRegistered(agent)).toBe(name);
    await lab.waitForServer(controller, name, (s) => s.connected, { timeoutMs: 10_000 });
  }

  beforeAll(async () => {
    assertBuilt();
    if (process.getuid?.() !== 0) throw new Error('the agent key tests must run as root: the agent writes another user\'s files, and useradd needs root');
    work = mkdtempSync(join(tmpdir(), 'cistern-keys-agent-'));
    mkdirSync(join(work, 'home'));
    await runOk('useradd', ['--no-create-home', '--home-dir', home(), '--shell', '/usr/sbin/nologin', '--user-group', userName]);
    userMade = true;
    const found = lookupUser(readFileSync('/etc/passwd', 'utf8'), userName);
    if (!found.found) throw new Error(`useradd did not add ${userName} to /etc/passwd`);
    user = found.entry;
    mkdirSync(home(), { mode: 0o750 });
    chownSync(home(), user.uid, user.gid);

    identity = join(work, 'id_ed25519');
    writeFileSync(identity, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    inventory = join(work, 'inventory.yaml');
    // Nothing listens on the SSH port (of any 127.x address): only the agents can succeed.
    sshPort = await closedPort();
    writeFileSync(inventory, `servers:
  alpha:
    hostname: alpha.invalid
    address: 127.0.0.1
    ssh: {port: ${sshPort}, user: ${userName}}
  beta:
    hostname: beta.invalid
    address: 127.0.0.2
    ssh: {port: ${sshPort}, user: ${userName}-missing}
  newbox:
    hostname: newbox.invalid
    address: 127.0.0.3
    ssh: {port: ${sshPort}}
ssh_keys:
  - name: admin-laptop
    key: ${ED25519}
`);
    controller = await lab.startController();
    await connectedAgent('alpha');
    await connectedAgent('beta');
  }, 60_000);

  afterAll(async () => {
    try {
      await lab.cleanup();
    } finally {
      if (userMade) {
        await run('userdel', [userName]);
        await run('groupdel', [userName]); // gone with the user where USERGROUPS_ENAB is yes
      }
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('--via agent creates ~/.ssh 0700 and authorized_keys 0600 owned by the user; no host key is involved', async () => {
    if (!user) throw new Error('no user (see beforeAll)');
    const { code, json } = await syncJson(['keys', 'sync', '--on', 'alpha', '--via', 'agent']);
    expect(code, JSON.stringify(json)).toBe(0);
    expect(json).toEqual({ file: inventory, ok: true, known_hosts: expect.any(String), warnings: [], results: [expect.anything()] });
    expect(row(json, 'alpha')).toEqual({
      server: 'alpha', address: `127.0.0.1:${sshPort}`, user: userName, via: 'agent', ok: true, changed: true,
      keys: ['admin-laptop'], added: ['admin-laptop'], removed: [], path: keysFile(), host_key: null, error: null,
    });
    expect(readFileSync(keysFile(), 'utf8')).toBe(block(['admin-laptop', ED25519]));
    const dir = statSync(join(home(), '.ssh'));
    const file = statSync(keysFile());
    expect([dir.mode & 0o777, dir.uid, dir.gid]).toEqual([0o700, user.uid, user.gid]);
    expect([file.mode & 0o777, file.uid, file.gid]).toEqual([0o600, user.uid, user.gid]);
    // The agent logged what it changed.
    expect(agents.get('alpha')?.daemon.logs().find((l) => l.msg === 'updated authorized_keys')).toMatchObject({ user: userName, path: keysFile(), added: ['admin-laptop'], removed: [] });
  });

  it('rotate --via agent keeps a line the user added by hand; a second sync changes nothing', async () => {
    appendFileSync(keysFile(), `${FOREIGN}\n`);
    const before = readFileSync(keysFile(), 'utf8');
    const rotated = await cistern(['keys', 'rotate', 'admin-laptop', '--key', RSA, '--on', 'alpha', '--via', 'agent']);
    expect(rotated.code, `${rotated.stdout}${rotated.stderr}`).toBe(0);
    expect(rotated.stdout).toMatch(new RegExp(`^alpha\\s+127\\.0\\.0\\.1:${sshPort}\\s+${userName}\\s+agent\\s+updated\\s+1\\s+\\+admin-laptop -admin-laptop\\s+-$`, 'm'));
    expect(rotated.stdout).toContain('all 1 servers in sync (1 updated)');
    expect(readFileSync(keysFile(), 'utf8')).toBe(before.replace(ED25519, RSA));
    expect(readFileSync(keysFile(), 'utf8')).toContain(`${END}\n${FOREIGN}\n`);
    expect(statSync(keysFile()).uid).toBe(user?.uid);

    const inode = statSync(keysFile()).ino;
    const again = await syncJson(['keys', 'sync', '--on', 'alpha', '--via', 'agent']);
    expect(again.code).toBe(0);
    expect(row(again.json, 'alpha')).toMatchObject({ via: 'agent', ok: true, changed: false, added: [], removed: [] });
    expect(statSync(keysFile()).ino).toBe(inode);
  });

  it('auto: agents where connected, SSH for the box without one; each failure is its own row, exit 1', async () => {
    const before = readFileSync(keysFile(), 'utf8');
    const { code, json } = await syncJson(['keys', 'sync', '--identity', identity, '--timeout', '10s']);
    expect(code, JSON.stringify(json)).toBe(1);
    expect(json.ok).toBe(false);
    expect(json.results.map((r) => [r.server, r.via, r.ok])).toEqual([['alpha', 'agent', true], ['beta', 'agent', false], ['newbox', 'ssh', false]]);
    expect(row(json, 'alpha')).toMatchObject({ changed: false, error: null });
    // The agent's own error code and hint come back through the controller.
    expect(row(json, 'beta').error).toMatchObject({ code: 'E_USER_NOT_FOUND', message: `no user "${userName}-missing" in /etc/passwd`, hint: expect.stringContaining('set ssh.user') });
    expect(row(json, 'newbox').error).toMatchObject({ code: 'E_SSH_CONNECT', message: expect.stringContaining('ECONNREFUSED') });
    expect(readFileSync(keysFile(), 'utf8')).toBe(before);

    const text = await cistern(['keys', 'sync', '--identity', identity]);
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^SERVER\s+ADDRESS\s+USER\s+VIA\s+RESULT\s+KEYS\s+CHANGES\s+HOST KEY$/);
    expect(lines[1]).toMatch(/^alpha\s+\S+\s+\S+\s+agent\s+unchanged\s/);
    expect(lines[2]).toMatch(/^beta\s+\S+\s+\S+\s+agent\s+FAILED\s/);
    expect(lines[3]).toMatch(/^newbox\s+\S+\s+root\s+ssh\s+FAILED\s/);
    expect(text.stdout).toContain(`beta: error[E_USER_NOT_FOUND]: no user "${userName}-missing" in /etc/passwd`);
    expect(text.stdout).toContain('2 of 3 servers failed (0 updated)');
  });

  it('--via agent fails a box without a connected agent with E_AGENT_OFFLINE; --via ssh never asks the agent', async () => {
    const { code, json } = await syncJson(['keys', 'sync', '--on', 'newbox', '--via', 'agent']);
    expect(code).toBe(1);
    expect(row(json, 'newbox')).toMatchObject({ via: 'agent', ok: false, error: { code: 'E_AGENT_OFFLINE', hint: expect.stringContaining('--via ssh') } });

    const ssh = await syncJson(['keys', 'sync', '--on', 'alpha', '--via', 'ssh', '--identity', identity]);
    expect(ssh.code).toBe(1);
    expect(row(ssh.json, 'alpha')).toMatchObject({ via: 'ssh', ok: false, error: { code: 'E_SSH_CONNECT' } });
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { cli } from '../../../testing/cli.js';
import { ED25519, ED25519_FP, RSA, RSA_FP, fakeEd25519 } from '../../../testing/ssh-keys.js';
import { tempDir, tempFile } from '../../../testing/tmp.js';

const FLEET = `# A small fleet.
servers:
  eden:
    hostname: 192.168.1.10 # the living room
  rivers:
    hostname: 192.168.1.11
    tags: [tv]
groups:
  family:
    members: [rivers]
`;

const json = (stdout: string) => JSON.parse(stdout);
const fleet = (text = FLEET) => tempFile('inventory.yaml', text);
/** An environment whose config folder holds no controller config (and no known_hosts). */
const noController = (): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: tempDir() });

describe('keys add, remove, rotate --no-sync', () => {
  it('adds keys at the fleet, group and server levels, changing nothing else', async () => {
    const file = fleet();
    expect((await cli(['keys', 'add', 'alice', '--key', ED25519, '--file', file])).code).toBe(0);
    expect((await cli(['keys', 'add', 'bob', '--key', `  ${RSA}  `, '--group', 'family', '--file', file])).code).toBe(0);
    const run = await cli(['keys', 'add', 'alice', '--key', RSA, '--server', 'eden', '--file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('added key alice at the server:eden level');
    expect(readFileSync(file, 'utf8')).toBe(`# A small fleet.
servers:
  eden:
    hostname: 192.168.1.10 # the living room
    ssh_keys:
      - name: alice
        key: ${RSA}
  rivers:
    hostname: 192.168.1.11
    tags: [tv]
groups:
  family:
    members: [rivers]
    ssh_keys:
      - name: bob
        key: ${RSA}
ssh_keys:
  - name: alice
    key: ${ED25519}
`);
  });

  it('refuses a malformed key, a taken name, an unknown server or group, and both levels at once', async () => {
    const file = fleet(`${FLEET}ssh_keys:\n  - {name: alice, key: "${ED25519}"}\n`);
    const before = readFileSync(file, 'utf8');
    const bad = await cli(['keys', 'add', 'x', '--key', 'ssh-ed25519 AAAA', '--file', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--key: not an OpenSSH public key');
    const taken = await cli(['keys', 'add', 'alice', '--key', RSA, '--file', file]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('E_KEY_EXISTS');
    expect(taken.stderr).toContain('cistern keys rotate alice');
    expect((await cli(['keys', 'add', 'x', '--key', RSA, '--server', 'edem', '--file', file])).stderr).toContain('did you mean "eden"?');
    const group = await cli(['keys', 'add', 'x', '--key', RSA, '--group', 'famly', '--file', file]);
    expect(group.stderr).toContain('error[E_GROUP_NOT_FOUND]: no group named "famly"');
    expect(group.stderr).toContain('did you mean "family"?');
    expect((await cli(['keys', 'add', 'x', '--key', RSA, '--group', 'family', '--server', 'eden', '--file', file])).code).toBe(2);
    expect((await cli(['keys', 'add', 'x', '--file', file])).stderr).toContain('--key: required');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('removes a key, dropping an emptied list, and says where a missing name lives', async () => {
    const file = fleet();
    await cli(['keys', 'add', 'bob', '--key', RSA, '--group', 'family', '--file', file]);
    const elsewhere = await cli(['keys', 'remove', 'bob', '--file', file]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('error[E_KEY_NOT_FOUND]: no key named "bob" at the fleet level');
    expect(elsewhere.stderr).toContain('"bob" is defined at group:family: pass --group family');
    expect((await cli(['keys', 'remove', 'bob', '--group', 'family', '--file', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(FLEET);
  });

  it('rotates a key\'s content in place with --no-sync', async () => {
    const file = fleet();
    await cli(['keys', 'add', 'alice', '--key', ED25519, '--file', file]);
    const run = await cli(['keys', 'rotate', 'alice', '--key', RSA, '--no-sync', '--file', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run.stdout)).toMatchObject({ level: 'fleet', name: 'alice', changed: true, synced: false });
    expect(readFileSync(file, 'utf8')).toBe(`${FLEET}ssh_keys:\n  - name: alice\n    key: ${RSA}\n`);
    expect((await cli(['keys', 'rotate', 'nobody', '--key', RSA, '--no-sync', '--file', file])).stderr).toContain('E_KEY_NOT_FOUND');
  });
});

describe('keys list', () => {
  it('lists the merged keys of each server with the level each comes from', async () => {
    const file = fleet(`${FLEET}    ssh_keys: [{name: alice, key: "${RSA}"}, {name: bob, key: "${fakeEd25519(2)}"}]
ssh_keys:
  - {name: alice, key: "${ED25519}"}
`);
    const run = await cli(['keys', 'list', '--file', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run.stdout)).toEqual([
      { server: 'eden', keys: [{ name: 'alice', origin: 'fleet', type: 'ssh-ed25519', fingerprint: ED25519_FP, comment: 'test-ed25519-256', key: ED25519 }] },
      { server: 'rivers', keys: [
        { name: 'alice', origin: 'group:family', type: 'ssh-rsa', fingerprint: RSA_FP, comment: 'test-rsa-2048', key: RSA },
        expect.objectContaining({ name: 'bob', origin: 'group:family' }),
      ] },
    ]);
    const text = await cli(['keys', 'list', '--file', file, '--on', 'tag:tv']);
    expect(text.stdout.split('\n')[0]).toMatch(/^SERVER\s+KEY\s+FROM\s+TYPE\s+FINGERPRINT\s+COMMENT$/);
    expect(text.stdout).toMatch(new RegExp(`rivers\\s+alice\\s+group:family\\s+ssh-rsa\\s+${RSA_FP.replace(/[+/]/g, '\\$&')}\\s+test-rsa-2048`));
    expect(text.stdout).not.toContain('eden');
  });

  it('shows servers without keys', async () => {
    const run = await cli(['keys', 'list', '--file', fleet()]);
    expect(run.stdout).toMatch(/eden\s+\(no keys\)/);
  });
});

describe('keys sync, before any connection', () => {
  it('needs an identity or an agent, and says how to give one', async () => {
    const run = await cli(['keys', 'sync', '--file', fleet()], { env: noController() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error[E_SSH_IDENTITY]: no SSH credential to log in with');
    const missing = await cli(['keys', 'sync', '--file', fleet(), '--identity', '/nonexistent/id_ed25519'], { env: noController() });
    expect(missing.stderr).toContain('cannot read the identity file /nonexistent/id_ed25519');
  });

  it('refuses a public key as the identity', async () => {
    const file = tempFile('id.pub', `${ED25519}\n`);
    const pub = await cli(['keys', 'sync', '--file', fleet(), '--identity', file], { env: noController() });
    expect(pub.stderr).toContain(`error[E_SSH_IDENTITY]: ${file} is a public key`);
  });

  it('has nothing to do when the selector matches no server', async () => {
    const run = await cli(['keys', 'sync', '--file', fleet(), '--on', 'tag:none', '--json'], { env: noController() });
    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ ok: true, results: [] });
  });

  it('validates --timeout and --concurrency', async () => {
    expect((await cli(['keys', 'sync', '--file', fleet(), '--timeout', 'soon'])).stderr).toContain('--timeout: "soon" is not a duration');
    expect((await cli(['keys', 'sync', '--file', fleet(), '--concurrency', '0'])).code).toBe(2);
  });
});

/** A loopback port where nothing listens (it did a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('keys sync --via', () => {
  it('accepts auto, agent or ssh', async () => {
    const run = await cli(['keys', 'sync', '--file', fleet(), '--via', 'pigeon'], { env: noController() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--via: auto, agent or ssh');
  });

  it('--via agent needs a controller to go through', async () => {
    const run = await cli(['keys', 'sync', '--file', fleet(), '--via', 'agent'], { env: noController() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error[E_CLIENT_CONFIG]: no controller to talk to');
  });

  it('auto with a controller that does not answer warns and goes over SSH; each failure is its own row', async () => {
    const env = noController();
    mkdirSync(join(env.XDG_CONFIG_HOME as string, 'cistern'));
    const down = await closedPort();
    writeFileSync(join(env.XDG_CONFIG_HOME as string, 'cistern', 'config.json'), JSON.stringify({ controller: `https://127.0.0.1:${down}`, token: 'csa_x.y', caPem: 'not used' }));
    const identity = tempFile('id_ed25519', ssh2.utils.generateKeyPairSync('ed25519').private);
    const [eden, rivers] = [await closedPort(), await closedPort()];
    const file = fleet(`servers:
  eden:
    hostname: eden.invalid
    address: 127.0.0.1
    ssh: {port: ${eden}}
  rivers:
    hostname: rivers.invalid
    address: 127.0.0.1
    ssh: {port: ${rivers}, user: media}
ssh_keys:
  - {name: alice, key: "${ED25519}"}
`);

    const run = await cli(['keys', 'sync', '--file', file, '--identity', identity, '--json'], { env });
    expect(run.code, run.stderr).toBe(1);
    const report = json(run.stdout);
    expect(report.warnings).toEqual([expect.stringMatching(/^could not ask the controller which agents are connected, so every server went over SSH: error\[E_CONTROLLER_UNREACHABLE\]/)]);
    expect(report.results.map((r: { server: string; via: string; ok: boolean; error: { code: string } }) => [r.server, r.via, r.ok, r.error.code])).toEqual([
      ['eden', 'ssh', false, 'E_SSH_CONNECT'], ['rivers', 'ssh', false, 'E_SSH_CONNECT'],
    ]);

    const text = await cli(['keys', 'sync', '--file', file, '--identity', identity], { env });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^SERVER\s+ADDRESS\s+USER\s+VIA\s+RESULT\s+KEYS\s+CHANGES\s+HOST KEY$/);
    expect(lines[1]).toMatch(new RegExp(`^eden\\s+127\\.0\\.0\\.1:${eden}\\s+root\\s+ssh\\s+FAILED\\s+1\\s+-\\s+-$`));
    expect(lines[2]).toMatch(/^rivers\s+\S+\s+media\s+ssh\s+FAILED\s/);
    expect(text.stdout).toContain('warning: could not ask the controller');
    expect(text.stdout).toContain('2 of 2 servers failed (0 updated)');
  });
});

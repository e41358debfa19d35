import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCisternError } from '../errors.js';
import { ED25519, RSA } from '../testing/ssh-keys.js';
import { tempDir, tempFile } from '../testing/tmp.js';
import { BEGIN_MARKER, END_MARKER } from './authorized-keys.js';
import { applyAuthorizedKeysCommand } from './local-apply.js';

const root = process.geteuid?.() === 0;
// As root the files must end up owned by the user, so the user is someone else; otherwise it
// can only be this process's own user.
const UID = root ? 4242 : (process.geteuid?.() ?? 0);
const GID = root ? 4343 : (process.getegid?.() ?? 0);
const FOREIGN = `# put here by hand\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBh+EhP3N/FvYgvcwj4HPh5RrXr6tUHnBrOqAcY5VcQ2 someone@else\n`;
const alice = { name: 'alice', key: ED25519 };
const bob = { name: 'bob', key: RSA };

/** A home for user `deploy` and a passwd file that says so. */
function account(options: { makeHome?: boolean } = {}) {
  const home = join(tempDir(), 'home', 'deploy');
  if (options.makeHome !== false) mkdirSync(home, { recursive: true });
  const passwdFile = tempFile('passwd', `root:x:0:0:root:/root:/bin/bash\ndeploy:x:${UID}:${GID}:Deploy:${home}:/bin/sh\n`);
  return { home, passwdFile, dir: join(home, '.ssh'), file: join(home, '.ssh', 'authorized_keys') };
}

const mode = (path: string) => statSync(path).mode & 0o777;

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (isCisternError(error)) return { code: error.code, message: error.message, hint: error.hint };
    throw error;
  }
  throw new Error('not refused');
}

describe('applyAuthorizedKeysCommand', () => {
  it('creates .ssh 0700 and authorized_keys 0600, owned by the user, holding the block', async () => {
    const { passwdFile, dir, file } = account();
    const result = await applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice, bob] }, { passwdFile });
    expect(result).toEqual({ path: file, changed: true, added: [alice, bob], removed: [], keys: ['alice', 'bob'] });
    expect(readFileSync(file, 'utf8')).toBe(`${BEGIN_MARKER}\n# key: alice\n${ED25519}\n# key: bob\n${RSA}\n${END_MARKER}\n`);
    expect(mode(dir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    for (const path of [dir, file]) expect([statSync(path).uid, statSync(path).gid]).toEqual([UID, GID]);
  });

  it('keeps every foreign line and the file\'s own mode; a second apply changes nothing', async () => {
    const { passwdFile, dir, file } = account();
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(file, FOREIGN, { mode: 0o644 });
    const first = await applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile });
    expect(first.changed).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(`${FOREIGN}${BEGIN_MARKER}\n# key: alice\n${ED25519}\n${END_MARKER}\n`);
    expect(mode(file)).toBe(0o644);
    expect(mode(dir)).toBe(0o755); // an existing folder is left as it is

    const written = statSync(file);
    const second = await applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile });
    expect(second).toEqual({ path: file, changed: false, added: [], removed: [], keys: ['alice'] });
    expect(statSync(file).ino).toBe(written.ino); // not even rewritten

    const third = await applyAuthorizedKeysCommand({ user: 'deploy', keys: [bob] }, { passwdFile });
    expect(third).toMatchObject({ changed: true, added: [bob], removed: [{ name: 'alice', material: ED25519.split(' ').slice(0, 2).join(' ') }] });
    expect(readFileSync(file, 'utf8')).toBe(`${FOREIGN}${BEGIN_MARKER}\n# key: bob\n${RSA}\n${END_MARKER}\n`);
  });

  it.runIf(root)('keeps the owner of an existing file (running as root)', async () => {
    const { passwdFile, dir, file } = account();
    mkdirSync(dir);
    writeFileSync(file, FOREIGN, { mode: 0o600 });
    // Owned by root, as some provisioning tools leave it: sshd accepts that, so Cistern keeps it.
    await applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile });
    expect([statSync(file).uid, statSync(file).gid]).toEqual([0, 0]);
  });

  it('refuses a symbolic link at authorized_keys or at .ssh, saying why, and writes nothing', async () => {
    const { passwdFile, dir, file } = account();
    mkdirSync(dir);
    const elsewhere = tempFile('shadow', 'root:secret\n');
    symlinkSync(elsewhere, file);
    const linkedFile = await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile }));
    expect(linkedFile.code).toBe('E_AUTHORIZED_KEYS');
    expect(linkedFile.message).toContain(`${file} is a symbolic link, so Cistern will not write through it: the agent writes as root`);
    expect(readFileSync(elsewhere, 'utf8')).toBe('root:secret\n');
    expect(readlinkSync(file)).toBe(elsewhere);

    const linkedDir = account();
    const target = join(linkedDir.home, '..', 'target');
    mkdirSync(target);
    symlinkSync(target, linkedDir.dir);
    const refused = await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile: linkedDir.passwdFile }));
    expect(refused).toMatchObject({ code: 'E_AUTHORIZED_KEYS', hint: 'replace the link by the real folder or file, owned by the user' });
    expect(refused.message).toContain(`${linkedDir.dir} is a symbolic link`);
    expect(lstatSync(linkedDir.dir).isSymbolicLink()).toBe(true);
    expect(() => statSync(join(target, 'authorized_keys'))).toThrow();
  });

  it('refuses a file with broken markers, naming it, and leaves it as it was', async () => {
    const { passwdFile, dir, file } = account();
    mkdirSync(dir);
    const broken = `${FOREIGN}${BEGIN_MARKER}\n`;
    writeFileSync(file, broken);
    const refused = await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile }));
    expect(refused.code).toBe('E_AUTHORIZED_KEYS');
    expect(refused.message).toBe(`${file}: authorized_keys has unbalanced markers of the cistern block: BEGIN at line 3`);
    expect(readFileSync(file, 'utf8')).toBe(broken);
  });

  it('creates nothing when there is no .ssh and no key to install', async () => {
    const { passwdFile, dir, file } = account();
    expect(await applyAuthorizedKeysCommand({ user: 'deploy', keys: [] }, { passwdFile })).toEqual({ path: file, changed: false, added: [], removed: [], keys: [] });
    expect(() => statSync(dir)).toThrow();
  });

  it('names a user missing from passwd, a broken passwd line, and a missing home', async () => {
    const { passwdFile } = account();
    expect(await refusal(applyAuthorizedKeysCommand({ user: 'nobody', keys: [alice] }, { passwdFile }))).toMatchObject({
      code: 'E_USER_NOT_FOUND', message: `no user "nobody" in ${passwdFile}`,
    });
    const broken = tempFile('passwd', 'deploy:x:1000\n');
    expect(await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile: broken }))).toMatchObject({
      code: 'E_USER_NOT_FOUND', message: `the line of user "deploy" in ${broken} (line 1) is malformed`,
    });
    const homeless = account({ makeHome: false });
    expect(await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile: homeless.passwdFile }))).toMatchObject({
      code: 'E_AUTHORIZED_KEYS', message: `the home folder of deploy, ${homeless.home} (from ${homeless.passwdFile}), does not exist`,
    });
  });

  it('as another user than root, refuses to write someone else\'s keys', async () => {
    const { passwdFile, dir } = account();
    const refused = await refusal(applyAuthorizedKeysCommand({ user: 'deploy', keys: [alice] }, { passwdFile, euid: UID + 1 }));
    expect(refused).toMatchObject({ code: 'E_AUTHORIZED_KEYS', hint: 'run the agent as root, or sync this server with --via ssh' });
    expect(refused.message).toContain(`the agent runs as uid ${UID + 1}, not root`);
    expect(() => statSync(dir)).toThrow();
  });

  it('answers malformed arguments with E_BAD_REQUEST naming the field, never writing', async () => {
    const { passwdFile, dir } = account();
    const bad = (args: Record<string, unknown>) => refusal(applyAuthorizedKeysCommand(args, { passwdFile }));
    expect(await bad({})).toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringMatching(/^apply-authorized-keys: args\.user: /) });
    expect(await bad({ user: '../etc', keys: [] })).toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('args.user: a user name') });
    expect(await bad({ user: 'deploy', keys: 'all' })).toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('args.keys: ') });
    // A line break would let a "key" add lines of its own, e.g. one with command="...".
    const injected = await bad({ user: 'deploy', keys: [{ name: 'x', key: `${ED25519}\ncommand="sh" ${RSA}` }] });
    expect(injected).toMatchObject({ code: 'E_BAD_REQUEST', message: 'apply-authorized-keys: args.keys.0.key: not an OpenSSH public key line: a key is one line' });
    expect(await bad({ user: 'deploy', keys: [{ name: 'x', key: `command="sh" ${ED25519}` }] })).toMatchObject({ message: expect.stringContaining('unsupported key type') });
    expect(await bad({ user: 'deploy', keys: [{ name: '-x', key: ED25519 }] })).toMatchObject({ message: expect.stringContaining('args.keys.0.name: a key name') });
    expect(() => statSync(dir)).toThrow();
  });
});

import { Decrypter, Encrypter } from 'age-encryption';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { tempDir } from '../testing/tmp.js';
import { loadCredential, loadOrCreateAgeIdentity, saveCredential, type Credential } from './identity.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const CREDENTIAL: Credential = {
  agentId: 'agt_01HV3K8Z',
  token: 'cst_s3cr3t-token-value',
  controllerUrl: 'https://192.168.1.2:7443',
  caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  caFingerprint: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
};

async function caught(promise: Promise<unknown>): Promise<CisternError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CisternError);
  return error as CisternError;
}

describe('age identity', () => {
  it('creates age.key 0600 in a new 0700 state dir, and reuses it', async () => {
    const dir = join(tempDir(), 'state', 'agent');
    const first = await loadOrCreateAgeIdentity(dir);
    expect(first.recipient).toMatch(/^age1[0-9a-z]+$/);
    expect(first.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'age.key'))).toBe(0o600);
    expect(readFileSync(join(dir, 'age.key'), 'utf8')).toContain(`# public key: ${first.recipient}\n${first.identity}\n`);
    expect(await loadOrCreateAgeIdentity(dir)).toEqual(first);
    expect(readdirSync(dir)).toEqual(['age.key']); // no temp files left behind
  });

  it('gives one identity to concurrent first starts', async () => {
    const dir = tempDir();
    const pairs = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateAgeIdentity(dir)));
    expect(new Set(pairs.map((p) => p.recipient)).size).toBe(1);
    expect(await loadOrCreateAgeIdentity(dir)).toEqual(pairs[0]);
  });

  it('decrypts what is encrypted to its recipient', async () => {
    const { identity, recipient } = await loadOrCreateAgeIdentity(tempDir());
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    expect(await decrypter.decrypt(await encrypter.encrypt('restic password'), 'text')).toBe('restic password');
  });

  it('reports a damaged age.key by name, without quoting it', async () => {
    const dir = tempDir();
    const { identity } = await loadOrCreateAgeIdentity(dir);
    const damaged = `${identity.slice(0, -6)}QQQQQQ`;
    writeFileSync(join(dir, 'age.key'), `${damaged}\n`);
    const error = await caught(loadOrCreateAgeIdentity(dir));
    expect(error.code).toBe('E_AGENT_STATE');
    expect(error.message).toContain(join(dir, 'age.key'));
    expect(JSON.stringify({ message: error.message, hint: error.hint, cause: String(error.cause) })).not.toContain(damaged.slice(16, 40));
  });

  it('reports an age.key with no identity in it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'age.key'), '# nothing here\n');
    expect((await caught(loadOrCreateAgeIdentity(dir))).message).toBe(`${join(dir, 'age.key')} holds no age identity`);
  });
});

describe('state dir', () => {
  it('reports a state dir that cannot be made', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    const error = await caught(saveCredential(join(file, 'state'), CREDENTIAL));
    expect(error.message).toBe(`cannot create the state folder ${join(file, 'state')}: ENOTDIR`);
  });
});

describe('credential', () => {
  it('is absent before registration', async () => {
    expect(await loadCredential(join(tempDir(), 'missing'))).toBeUndefined();
  });

  it('round-trips through credential.json, 0600 in a 0700 dir', async () => {
    const dir = join(tempDir(), 'state');
    await saveCredential(dir, CREDENTIAL);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'credential.json'))).toBe(0o600);
    expect(await loadCredential(dir)).toEqual(CREDENTIAL);
    expect(JSON.parse(readFileSync(join(dir, 'credential.json'), 'utf8'))).toMatchObject({ version: 1, agentId: CREDENTIAL.agentId });
  });

  it('replaces a credential and tightens a file someone loosened', async () => {
    const dir = tempDir();
    await saveCredential(dir, CREDENTIAL);
    chmodSync(join(dir, 'credential.json'), 0o644);
    await saveCredential(dir, { ...CREDENTIAL, token: 'cst_rotated' });
    expect(mode(join(dir, 'credential.json'))).toBe(0o600);
    expect((await loadCredential(dir))?.token).toBe('cst_rotated');
    expect(readdirSync(dir)).toEqual(['credential.json']);
  });

  it.each([
    ['truncated JSON', '{"version":1,"agentId":"agt_1","token":"cst_s3cr3t-token-value', 'is not valid JSON'],
    ['a wrong field', JSON.stringify({ ...CREDENTIAL, version: 1, token: 42, agentId: 'cst_s3cr3t-token-value' }), 'is not a credential this agent can read (token)'],
    ['an unknown version', JSON.stringify({ ...CREDENTIAL, version: 2 }), 'is not a credential this agent can read (version)'],
  ])('reports %s by file name, never by content', async (_what, text, message) => {
    const dir = tempDir();
    const file = join(dir, 'credential.json');
    writeFileSync(file, text, { mode: 0o600 });
    const error = await caught(loadCredential(dir));
    expect(error.code).toBe('E_AGENT_STATE');
    expect(error.message).toBe(`${file} ${message}`);
    expect(error.hint).toContain('register this agent again');
    expect(error.cause).toBeUndefined();
    expect(`${error.message} ${error.hint} ${JSON.stringify(error.details)}`).not.toContain('s3cr3t');
  });

  it('refuses to save an invalid credential, naming fields only', async () => {
    await expect(saveCredential(tempDir(), { ...CREDENTIAL, controllerUrl: 'not a url', token: '' })).rejects.toThrow(
      'saveCredential: invalid fields token, controllerUrl',
    );
  });
});

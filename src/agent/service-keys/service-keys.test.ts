import { chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CisternError } from '../../errors.js';
import { CATALOG } from '../../services/catalog.js';
import type { ServiceDefinition } from '../../services/schema.js';
import { tempDir } from '../../testing/tmp.js';
import { createKeyStore, loadServiceKeys, parseServiceKeys } from './index.js';

const SECRET = 'topsecret-0123456789abcdef';

function keyFile(text: string, mode = 0o600): string {
  const file = join(tempDir(), 'service-keys.yaml');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

async function refusal(promise: Promise<unknown>): Promise<CisternError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CisternError);
  return error as CisternError;
}

const sonarr = (stateDir: string): ServiceDefinition => ({ ...(CATALOG.find((s) => s.name === 'sonarr') as ServiceDefinition), state_dir: stateDir });

describe('the service keys file', () => {
  it('reads keys and user/password pairs, from YAML or JSON, keeping keys that look like numbers as written', () => {
    expect(parseServiceKeys(`sonarr: { key: 0123 }\ntransmission:\n  user: admin\n  password: ${SECRET}\n`)).toEqual({
      keys: new Map([['sonarr', { key: '0123' }], ['transmission', { user: 'admin', password: SECRET }]]), problems: [],
    });
    expect(parseServiceKeys(JSON.stringify({ jellyfin: { key: SECRET } })).keys.get('jellyfin')).toEqual({ key: SECRET });
    expect(parseServiceKeys('').problems).toEqual([]);
  });

  it('names the line and field of every problem, and never a value', () => {
    const text = [
      'sonarr:',
      `  apikey: ${SECRET}`, // line 2: a typo of `key`
      'radarr:',
      `  key: ${SECRET}`,
      `  password: ${SECRET}`, // line 5: key and password together
      'jellyfin: {}', // line 6: nothing
      'bad name!: { key: x }', // line 7
    ].join('\n');
    const { keys, problems } = parseServiceKeys(text);
    expect(keys.size).toBe(0);
    expect(problems).toEqual(expect.arrayContaining([
      { line: 2, field: 'sonarr', message: 'unknown field apikey (fields: key, user, password)' },
      { line: 4, field: 'radarr', message: 'give key, or user and password, not both' },
      { line: 6, field: 'jellyfin', message: 'needs key, or user and password' },
      expect.objectContaining({ line: 7, field: 'bad name!' }),
    ]));
    expect(JSON.stringify(problems)).not.toContain(SECRET);
    const syntax = parseServiceKeys(`sonarr: { key: ${SECRET}\nradarr: x\n`);
    expect(syntax.problems[0]).toMatchObject({ field: '', message: expect.stringMatching(/^not valid YAML or JSON \(\w+\)$/) });
    expect(JSON.stringify(syntax.problems)).not.toContain(SECRET);
  });

  it('refuses a file its group or others may read, naming the file and the fix', async () => {
    const file = keyFile(`sonarr: { key: ${SECRET} }\n`, 0o644);
    const error = await refusal(loadServiceKeys(file));
    expect(error.code).toBe('E_SERVICE_KEYS');
    expect(error.message).toBe(`${file}: the service keys file may be read or written by its group or others (mode 0644); refusing it`);
    expect(error.hint).toBe(`chmod 600 ${file}`);
    chmodSync(file, 0o640);
    expect((await refusal(loadServiceKeys(file))).message).toContain('(mode 0640)');
    chmodSync(file, 0o600);
    expect((await loadServiceKeys(file)).keys.get('sonarr')).toEqual({ key: SECRET });
  });

  it('refuses a missing or malformed file with the file, line and field, and no secret', async () => {
    const missing = join(tempDir(), 'nope.yaml');
    expect((await refusal(loadServiceKeys(missing))).message).toBe(`${missing}: cannot read the service keys file (ENOENT)`);
    const file = keyFile(`sonarr:\n  key: ${SECRET}\n  user: admin\n`);
    const error = await refusal(loadServiceKeys(file));
    expect(error.message).toBe(`the service keys file has a problem:\n${file}:2: sonarr: give key, or user and password, not both`);
    expect(`${error.message}${error.hint ?? ''}${JSON.stringify(error.details)}`).not.toContain(SECRET);
  });
});

describe('the key store', () => {
  it('prefers the admin\'s file, else reads the app\'s config file, again when it changes or the service restarts', async () => {
    const state = tempDir();
    const config = join(state, 'config.xml');
    const store = createKeyStore();
    expect(await store.credentialFor(sonarr(state))).toBeUndefined(); // not written yet: no key

    writeFileSync(config, '<Config><ApiKey>first-key-0001</ApiKey></Config>\n');
    expect(await store.credentialFor(sonarr(state))).toEqual({ key: 'first-key-0001' });
    writeFileSync(config, '<Config><ApiKey>second-key-002</ApiKey></Config>\n');
    utimesSync(config, new Date(), new Date(Date.now() + 5_000)); // a change the stat sees, whatever the clock's grain
    expect(await store.credentialFor(sonarr(state))).toEqual({ key: 'second-key-002' });

    const admin = await loadServiceKeys(keyFile('sonarr: { key: from-the-admin }\n'));
    const preferred = createKeyStore({ admin });
    expect(await preferred.credentialFor(sonarr(state))).toEqual({ key: 'from-the-admin' });
    expect(await preferred.credentialFor({ ...sonarr(state), name: 'radarr' })).toEqual({ key: 'second-key-002' });
  });

  it('reads the admin\'s file again when it changes, and keeps the keys in force when the new one is bad', async () => {
    const file = keyFile('jellyfin: { key: one-key-00001 }\n');
    const store = createKeyStore({ admin: await loadServiceKeys(file) });
    const jellyfin = CATALOG.find((s) => s.name === 'jellyfin') as ServiceDefinition;
    expect(await store.credentialFor(jellyfin)).toEqual({ key: 'one-key-00001' });
    writeFileSync(file, 'jellyfin: { key: two-key-00002 }\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(await store.credentialFor(jellyfin)).toEqual({ key: 'two-key-00002' });
    writeFileSync(file, 'jellyfin: { apikey: typo }\n');
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    expect(await store.credentialFor(jellyfin)).toEqual({ key: 'two-key-00002' });
  });
});

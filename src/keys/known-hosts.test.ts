import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { tempDir } from '../testing/tmp.js';
import { ED25519, ED25519_FP, RSA, RSA_FP, fakeEd25519 } from '../testing/ssh-keys.js';
import { openKnownHosts } from './known-hosts.js';

const blob = (line: string) => Buffer.from(line.split(' ')[1] ?? '', 'base64');

describe('openKnownHosts', () => {
  it('pins on first contact (0600, in a new folder), then knows the key', async () => {
    const file = join(tempDir(), 'cistern', 'known_hosts');
    const hosts = openKnownHosts(file);
    expect(await hosts.algorithms('127.0.0.1', 2222)).toBeUndefined();
    expect(await hosts.verify('127.0.0.1', 2222, blob(ED25519))).toEqual({ fingerprint: ED25519_FP, pinned: true });
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2222 ${ED25519.split(' ').slice(0, 2).join(' ')}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await hosts.verify('127.0.0.1', 2222, blob(ED25519))).toEqual({ fingerprint: ED25519_FP, pinned: false });
    expect(await openKnownHosts(file).algorithms('127.0.0.1', 2222)).toEqual(['ssh-ed25519']);
  });

  it('stops a changed key with E_HOST_KEY_CHANGED naming both fingerprints, and keeps the pin', async () => {
    const file = join(tempDir(), 'known_hosts');
    const hosts = openKnownHosts(file);
    await hosts.verify('eden', 22, blob(ED25519));
    const error = await hosts.verify('eden', 22, blob(RSA)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CisternError);
    expect((error as CisternError).code).toBe('E_HOST_KEY_CHANGED');
    expect((error as CisternError).message).toBe(`the host key of eden:22 has changed: ${file} pins ${ED25519_FP} but the server offered ${RSA_FP}`);
    expect((error as CisternError).hint).toContain(`ssh-keygen -R 'eden' -f ${file}`);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('loses no pin when many hosts are pinned at once', async () => {
    const file = join(tempDir(), 'known_hosts');
    const hosts = openKnownHosts(file);
    await Promise.all(Array.from({ length: 12 }, (_, i) => hosts.verify('127.0.0.1', 3000 + i, blob(fakeEd25519(i + 1)))));
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(12);
  });

  it('refuses a damaged file, naming the line', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `eden ${ED25519.split(' ').slice(0, 2).join(' ')}\ngarbage\n`);
    await expect(openKnownHosts(file).verify('eden', 22, blob(ED25519))).rejects.toThrow(`${file}:2: expected HOST TYPE BASE64`);
  });
});

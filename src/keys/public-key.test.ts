import { describe, expect, it } from 'vitest';
import { ECDSA_256, ECDSA_256_FP, ECDSA_384, ECDSA_384_FP, ECDSA_521, ECDSA_521_FP, ED25519, ED25519_FP, RSA, RSA_FP, sshKeyLine } from '../testing/ssh-keys.js';
import { fingerprint, keyLine, parsePublicKey } from './public-key.js';

const reason = (line: string) => {
  const parsed = parsePublicKey(line);
  return parsed.ok ? undefined : parsed.reason;
};

describe('parsePublicKey', () => {
  it.each([
    ['ssh-ed25519', ED25519, ED25519_FP],
    ['ssh-rsa', RSA, RSA_FP],
    ['ecdsa-sha2-nistp256', ECDSA_256, ECDSA_256_FP],
    ['ecdsa-sha2-nistp384', ECDSA_384, ECDSA_384_FP],
    ['ecdsa-sha2-nistp521', ECDSA_521, ECDSA_521_FP],
  ])('accepts %s keys from ssh-keygen, with ssh-keygen\'s fingerprint', (type, line, print) => {
    const parsed = parsePublicKey(line);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.key.type).toBe(type);
    expect(parsed.key.comment).toMatch(/^test-/);
    expect(fingerprint(parsed.key.blob)).toBe(print);
    expect(keyLine(parsed.key)).toBe(line);
  });

  it('accepts security-key (sk-*) types and keys without a comment', () => {
    expect(reason(sshKeyLine('sk-ssh-ed25519@openssh.com', ['sk-ssh-ed25519@openssh.com', Buffer.alloc(32, 1), 'ssh:']))).toBeUndefined();
    expect(reason(sshKeyLine('sk-ecdsa-sha2-nistp256@openssh.com', ['sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', Buffer.alloc(65, 4), 'ssh:']))).toBeUndefined();
    expect(reason(ED25519.split(' ').slice(0, 2).join(' '))).toBeUndefined();
    expect(reason(`  ${ED25519.replace(/ /g, '\t')}  `)).toBeUndefined();
  });

  it('refuses what is not a usable public key, saying why', () => {
    expect(reason('')).toBe('empty');
    expect(reason('ssh-dss AAAAB3NzaC1kc3M=')).toContain('DSA keys are disabled');
    expect(reason('AAAAC3NzaC1lZDI1NTE5AAAAIJkMlGHmvCsnjoUDab50kyFw27twBIk7Vs6p588QgDQ1 alice')).toContain('the type, such as ssh-ed25519, must come first');
    expect(reason('ssh-foo AAAA')).toContain('unsupported key type "ssh-foo"');
    expect(reason('ssh-ed25519')).toBe('no key data after ssh-ed25519');
    expect(reason('ssh-ed25519 not*base64')).toBe('the key data is not valid base64');
    expect(reason('-----BEGIN OPENSSH PRIVATE KEY-----')).toContain('private key');
    expect(reason(`${ED25519}\nssh-rsa AAAA`)).toBe('a key is one line');
  });

  it('refuses a truncated key and a type that does not match the data', () => {
    const [, base64 = ''] = ED25519.split(' ');
    expect(reason(`ssh-ed25519 ${base64.slice(0, 40)}`)).toMatch(/truncated|base64/);
    expect(reason(`ssh-rsa ${base64}`)).toBe('the key says it is ssh-rsa but its data is "ssh-ed25519"');
    expect(reason(sshKeyLine('ssh-ed25519', ['ssh-ed25519', Buffer.alloc(31)]))).toContain('31 bytes, expected 32');
    expect(reason(sshKeyLine('ssh-ed25519', ['ssh-ed25519', Buffer.alloc(32), 'extra']))).toContain('2 fields, expected 1');
    expect(reason(sshKeyLine('ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(65)]))).toContain('names curve "nistp384"');
    expect(reason(sshKeyLine('ssh-rsa', ['ssh-rsa', Buffer.alloc(0), Buffer.alloc(8, 1)]))).toContain('empty e');
  });
});

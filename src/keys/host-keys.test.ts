import { describe, expect, it } from 'vitest';
import { ED25519, ED25519_FP, RSA, RSA_FP } from '../testing/ssh-keys.js';
import { hostKeyAlgorithms, hostPattern, judgeHostKey, knownHostLine, parseKnownHosts } from './host-keys.js';

const blob = (line: string) => Buffer.from(line.split(' ')[1] ?? '', 'base64');

describe('known_hosts format', () => {
  it('names a host like OpenSSH: bare for port 22, [host]:port otherwise', () => {
    expect(hostPattern('Eden.LAN', 22)).toBe('eden.lan');
    expect(hostPattern('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostLine('127.0.0.1', 2222, blob(ED25519))).toBe(`[127.0.0.1]:2222 ${ED25519.split(' ').slice(0, 2).join(' ')}`);
  });

  it('parses the lines it writes, and OpenSSH host lists, skipping comments', () => {
    const text = `# pins\n${knownHostLine('eden', 22, blob(ED25519))}\n\neden.lan,192.168.1.10 ${RSA.split(' ').slice(0, 2).join(' ')} comment\n`;
    const { entries, problems } = parseKnownHosts(text);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.line, e.patterns, e.type])).toEqual([[2, ['eden'], 'ssh-ed25519'], [4, ['eden.lan', '192.168.1.10'], 'ssh-rsa']]);
  });

  it('reports lines it cannot read, with their numbers', () => {
    const { problems } = parseKnownHosts('eden ssh-ed25519\n|1|abc= ssh-ed25519 AAAA\n@revoked * ssh-rsa AAAA\n');
    expect(problems.map((p) => p.line)).toEqual([1, 2, 3]);
  });
});

describe('judgeHostKey', () => {
  const { entries } = parseKnownHosts(`${knownHostLine('127.0.0.1', 2222, blob(ED25519))}\n`);

  it('knows a pinned key, and sees a new host as new', () => {
    expect(judgeHostKey(entries, '127.0.0.1', 2222, blob(ED25519))).toEqual({ status: 'known', fingerprint: ED25519_FP });
    expect(judgeHostKey(entries, '127.0.0.1', 2223, blob(RSA))).toEqual({ status: 'new', fingerprint: RSA_FP });
  });

  it('calls a different key a change, with both fingerprints', () => {
    expect(judgeHostKey(entries, '127.0.0.1', 2222, blob(RSA))).toEqual({ status: 'changed', fingerprint: RSA_FP, pinned: [ED25519_FP] });
  });

  it('offers the pinned key types first, RSA with its SHA-2 signatures', () => {
    const both = parseKnownHosts(`h ${ED25519.split(' ').slice(0, 2).join(' ')}\nh ${RSA.split(' ').slice(0, 2).join(' ')}\n`).entries;
    expect(hostKeyAlgorithms(both)).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms([])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkJoinToken, generateJoinToken, generateSecret, hashSecret, parseJoinToken, parseTtl, redact, safeEqualHex,
  type JoinTokenState,
} from './tokens.js';

const at = (iso: string) => Date.parse(iso);

describe('join tokens', () => {
  it('generates cst_<id>.<secret> with a short hex id and a long random secret', () => {
    const { id, secret, token } = generateJoinToken();
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).toBe(`cst_${id}.${secret}`);
    expect(parseJoinToken(` ${token}\n`)).toEqual({ id, secret });
    expect(generateJoinToken().token).not.toBe(token);
  });

  it('parses only well-formed tokens', () => {
    const secret = 'a'.repeat(32);
    expect(parseJoinToken(`cst_1a2b3c4d.${secret}`)).toEqual({ id: '1a2b3c4d', secret });
    for (const bad of [`cst_1a2b3c4.${secret}`, `cst_1A2B3C4D.${secret}`, 'cst_1a2b3c4d.short', `csa_1a2b3c4d.${secret}`, `cst_1a2b3c4d.${secret}!`, '']) {
      expect(parseJoinToken(bad), bad).toBeUndefined();
    }
  });

  it('makes admin and agent secrets with their prefixes', () => {
    expect(generateSecret('csa_')).toMatch(/^csa_[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
    expect(generateSecret('cag_')).toMatch(/^cag_[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
  });
});

describe('hashing and comparing', () => {
  it('hashes with SHA-256 and compares digests in constant time', () => {
    const hash = hashSecret('secret');
    expect(hash).toBe('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
    expect(safeEqualHex(hash, hashSecret('secret'))).toBe(true);
    expect(safeEqualHex(hash.toUpperCase(), hash)).toBe(true);
    expect(safeEqualHex(hash, hashSecret('other'))).toBe(false);
    expect(safeEqualHex(hash, hash.slice(2))).toBe(false);
    expect(safeEqualHex('zz', 'zz')).toBe(false);
    expect(safeEqualHex('', '')).toBe(true);
  });
});

describe('redact', () => {
  it('hides the secret of every kind of token and keeps the id', () => {
    const join = generateJoinToken();
    const agent = generateSecret('cag_');
    const text = `join with ${join.token}, auth "Bearer ${agent}" and token=${generateSecret('csa_')}`;
    const out = redact(text);
    expect(out).toContain(`cst_${join.id}.***,`);
    expect(out).toContain(`Bearer ${agent.slice(0, 12)}.***"`);
    expect(out).toMatch(/token=csa_[0-9a-f]{8}\.\*\*\*$/);
    expect(out).not.toContain(join.secret);
    expect(redact(out)).toBe(out);
  });

  it('hides mangled tokens whole and leaves other text alone', () => {
    expect(redact('cst_NOTANID.abcdef and cag_garbage')).toBe('cst_*** and cag_***');
    expect(redact('token cst_1a2b3c4d was used')).toBe('token cst_1a2b3c4d was used');
    expect(redact('mycst_x and cst_')).toBe('mycst_x and cst_');
  });

  it('hides the scrape token Prometheus sends', () => {
    const scrape = generateSecret('csm_');
    expect(redact(`authorization: Bearer ${scrape}`)).toBe(`authorization: Bearer ${scrape.slice(0, 12)}.***`);
  });
});

describe('checkJoinToken', () => {
  const now = at('2026-11-28T12:00:00Z');
  const token: JoinTokenState = { id: '1a2b3c4d', expiresAt: at('2026-11-29T10:00:00Z'), usesLeft: 2, revokedAt: null };

  it('accepts a live token, including one without limits', () => {
    expect(checkJoinToken(token, now)).toEqual({ ok: true });
    expect(checkJoinToken({ ...token, expiresAt: null, usesLeft: null }, now)).toEqual({ ok: true });
  });

  it('names the reason and the time', () => {
    expect(checkJoinToken({ ...token, expiresAt: at('2026-11-28T10:00:00Z') }, now)).toEqual({
      ok: false, reason: 'expired', message: 'join token 1a2b3c4d expired at 2026-11-28T10:00:00Z',
    });
    expect(checkJoinToken({ ...token, expiresAt: now }, now)).toMatchObject({ reason: 'expired' });
    expect(checkJoinToken({ ...token, usesLeft: 0 }, now)).toEqual({ ok: false, reason: 'used-up', message: 'join token 1a2b3c4d has been used up' });
    expect(checkJoinToken({ ...token, revokedAt: at('2026-11-28T11:30:00.250Z'), usesLeft: 0 }, now)).toEqual({
      ok: false, reason: 'revoked', message: 'join token 1a2b3c4d was revoked at 2026-11-28T11:30:00Z',
    });
  });
});

describe('parseTtl', () => {
  it('reads durations, never and 0 as no expiry, and rejects the rest', () => {
    expect(parseTtl('24h')).toBe(86_400_000);
    expect(parseTtl('30m')).toBe(1_800_000);
    expect(parseTtl('never')).toBeNull();
    expect(parseTtl('0')).toBeNull();
    expect(parseTtl('soon')).toBeUndefined();
    expect(parseTtl('-1h')).toBeUndefined();
  });
});

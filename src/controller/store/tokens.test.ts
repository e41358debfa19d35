import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testStore } from '../../testing/store.js';
import { tempDir } from '../../testing/tmp.js';
import { generateJoinToken, hashSecret } from '../tokens.js';
import type { NewJoinToken, Store } from './index.js';

const NOW = Date.parse('2026-11-28T10:00:00Z');
const HOUR = 3_600_000;

/** A stored token and the hash an agent presenting its secret would produce. */
function addToken(store: Store, limits: Partial<NewJoinToken> = {}) {
  const { id, secret } = generateJoinToken();
  const row = store.createJoinToken({ id, secretHash: hashSecret(secret), createdAt: NOW, ...limits });
  return { id, hash: hashSecret(secret), row };
}

describe('join token store', () => {
  it('creates, gets and lists tokens', () => {
    const store = testStore();
    const { id, row } = addToken(store, { group: 'media', description: 'living room', expiresAt: NOW + HOUR, usesLeft: 3 });
    expect(row).toMatchObject({ id, group: 'media', description: 'living room', usesLeft: 3, revokedAt: null });
    expect(store.getJoinToken(id)).toEqual(row);
    const second = addToken(store, { createdAt: NOW + 1 });
    expect(store.listJoinTokens().map((token) => token.id)).toEqual([id, second.id]);
    expect(store.getJoinToken('00000000')).toBeUndefined();
  });

  it('redeems a token and takes one use', () => {
    const store = testStore();
    const { id, hash } = addToken(store, { usesLeft: 2 });
    const result = store.redeemJoinToken(id, hash, NOW);
    expect(result).toMatchObject({ ok: true, row: { id, usesLeft: 1 } });
    expect(store.getJoinToken(id)?.usesLeft).toBe(1);
    const unlimited = addToken(store);
    expect(store.redeemJoinToken(unlimited.id, unlimited.hash, NOW)).toMatchObject({ ok: true, row: { usesLeft: null } });
    expect(store.getJoinToken(unlimited.id)?.usesLeft).toBeNull();
  });

  it('treats a wrong secret like an unknown token', () => {
    const store = testStore();
    const { id } = addToken(store);
    const message = `join token ${id} is not known to this controller`;
    expect(store.redeemJoinToken(id, hashSecret('guess'), NOW)).toEqual({ ok: false, reason: 'unknown', message });
    expect(store.redeemJoinToken(id, 'not hex', NOW)).toMatchObject({ reason: 'unknown' });
    expect(store.redeemJoinToken('1a2b3c4d', hashSecret('guess'), NOW)).toMatchObject({ reason: 'unknown' });
  });

  it('refuses expired, revoked and used-up tokens without taking a use', () => {
    const store = testStore();
    const expiring = addToken(store, { expiresAt: NOW + HOUR, usesLeft: 5 });
    expect(store.redeemJoinToken(expiring.id, expiring.hash, NOW + 2 * HOUR)).toEqual({
      ok: false, reason: 'expired', message: `join token ${expiring.id} expired at 2026-11-28T11:00:00Z`,
    });
    expect(store.getJoinToken(expiring.id)?.usesLeft).toBe(5);

    const revoked = addToken(store);
    expect(store.revokeJoinToken(revoked.id, NOW + 1000)).toBe(true);
    expect(store.revokeJoinToken(revoked.id, NOW + 5000)).toBe(true);
    expect(store.getJoinToken(revoked.id)?.revokedAt).toBe(NOW + 1000);
    expect(store.redeemJoinToken(revoked.id, revoked.hash, NOW + 2000)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(store.revokeJoinToken('00000000')).toBe(false);

    const once = addToken(store, { usesLeft: 1 });
    expect(store.redeemJoinToken(once.id, once.hash, NOW).ok).toBe(true);
    expect(store.redeemJoinToken(once.id, once.hash, NOW)).toEqual({
      ok: false, reason: 'used-up', message: `join token ${once.id} has been used up`,
    });
    expect(store.getJoinToken(once.id)?.usesLeft).toBe(0);
  });

  it('gives the last use to one of two connections racing for it', () => {
    const file = join(tempDir(), 'cistern.db');
    const [a, b] = [testStore(file), testStore(file)];
    const { id, hash } = addToken(a, { usesLeft: 1 });
    const results = [a.redeemJoinToken(id, hash, NOW), b.redeemJoinToken(id, hash, NOW)];
    expect(results.map((result) => (result.ok ? 'ok' : result.reason))).toEqual(['ok', 'used-up']);
  });

  it('gives a use back when the surrounding transaction fails', () => {
    const store = testStore();
    const { id, hash } = addToken(store, { usesLeft: 1 });
    expect(() => store.transaction(() => {
      expect(store.redeemJoinToken(id, hash, NOW).ok).toBe(true);
      throw new Error('registration failed');
    })).toThrow('registration failed');
    expect(store.getJoinToken(id)?.usesLeft).toBe(1);
    expect(store.transaction(() => store.redeemJoinToken(id, hash, NOW)).ok).toBe(true);
    expect(store.getJoinToken(id)?.usesLeft).toBe(0);
  });
});

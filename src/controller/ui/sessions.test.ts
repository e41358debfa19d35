import { describe, expect, it } from 'vitest';
import { SessionStore } from './sessions.js';

describe('SessionStore', () => {
  it('makes random 256-bit ids and finds a session by its id until it expires', () => {
    const clock = { now: 1_000 };
    const sessions = new SessionStore({ ttlMs: 60_000, clock: () => clock.now });
    const a = sessions.create('hash');
    const b = sessions.create('hash');
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(sessions.find(a.id)).toEqual({ createdAt: 1_000, expiresAt: 61_000, adminHash: 'hash' });
    clock.now = 60_999;
    expect(sessions.find(a.id)).toBeDefined();
    clock.now = 61_000;
    expect(sessions.find(a.id)).toBeUndefined();
    expect(sessions.size).toBe(1);
  });

  it('finds nothing for a missing, malformed or unknown id, nor after destroy', () => {
    const sessions = new SessionStore();
    const { id } = sessions.create('hash');
    for (const bad of [undefined, '', 'x', `${id}x`, 'A'.repeat(43)]) expect(sessions.find(bad)).toBeUndefined();
    sessions.destroy(id);
    expect(sessions.find(id)).toBeUndefined();
  });

  it('keeps at most `max` sessions, dropping the oldest', () => {
    const sessions = new SessionStore({ max: 2 });
    const ids = [1, 2, 3].map(() => sessions.create('hash').id);
    expect(ids.map((id) => sessions.find(id) !== undefined)).toEqual([false, true, true]);
  });

  it('has a CSRF token per session that only that session accepts', () => {
    const sessions = new SessionStore();
    const a = sessions.create('hash').id;
    const b = sessions.create('hash').id;
    const token = sessions.csrfToken(a);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.checkCsrf(a, token)).toBe(true);
    expect(sessions.checkCsrf(b, token)).toBe(false);
    expect(sessions.checkCsrf(a, undefined)).toBe(false);
    expect(sessions.checkCsrf(a, token.slice(1))).toBe(false);
    // Another controller process (another key) gives other tokens.
    expect(new SessionStore().csrfToken(a)).not.toBe(token);
  });
});

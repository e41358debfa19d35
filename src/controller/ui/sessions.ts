/**
 * Dashboard sessions. Signing in with the admin token gives the browser a random session id in
 * an HttpOnly cookie; the controller keeps only the SHA-256 of the id, with its expiry and the
 * hash of the admin token it was opened with (rotating the token ends every session). Kept in
 * memory: a controller restart signs everyone out, which costs one sign-in.
 *
 * Each session has a CSRF token, an HMAC of its id under a key that lives only in this process,
 * so nothing secret is stored for it either.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret } from '../tokens.js';

export const SESSION_COOKIE = 'cistern_session';
export const CSRF_HEADER = 'x-cistern-csrf';

export interface Session {
  createdAt: number;
  expiresAt: number;
  /** The admin token's hash when the session was opened. */
  adminHash: string;
}

export interface SessionStoreOptions {
  /** Absolute lifetime of a session; default 12 hours. */
  ttlMs?: number;
  /** Open sessions kept at most; past it the oldest is dropped. Default 100. */
  max?: number;
  clock?: () => number;
}

const ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  readonly ttlMs: number;
  private readonly max: number;
  private readonly clock: () => number;
  /** By the hash of the id, oldest first (a Map keeps insertion order). */
  private readonly sessions = new Map<string, Session>();
  private readonly csrfKey = randomBytes(32);

  constructor(options: SessionStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 12 * 3_600_000;
    this.max = options.max ?? 100;
    this.clock = options.clock ?? Date.now;
  }

  /** A new session; the returned id goes into the cookie and nowhere else. */
  create(adminHash: string): { id: string; session: Session } {
    const now = this.clock();
    this.prune(now);
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const session = { createdAt: now, expiresAt: now + this.ttlMs, adminHash };
    this.sessions.set(hashSecret(id), session);
    return { id, session };
  }

  /** The live session with this id, or undefined (unknown, malformed or expired). */
  find(id: string | undefined): Session | undefined {
    if (id === undefined || !ID.test(id)) return undefined;
    const key = hashSecret(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= this.clock()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined && ID.test(id)) this.sessions.delete(hashSecret(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  csrfToken(id: string): string {
    return createHmac('sha256', this.csrfKey).update(id).digest('base64url');
  }

  checkCsrf(id: string, token: string | undefined): boolean {
    if (token === undefined) return false;
    const expected = Buffer.from(this.csrfToken(id));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private prune(now: number): void {
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}

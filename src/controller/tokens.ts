/**
 * Bearer secrets: join tokens (`cst_`), the admin token (`csa_`), agent credentials (`cag_`) and
 * the fleet's scrape token for Prometheus (`csm_`); provisioning keys (`cpk_`) carry a join token.
 * Each reads `<prefix><id>.<secret>`: the id is not secret and names the token in lists, logs
 * and errors; only the SHA-256 of a secret is ever stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseDuration } from '../util/duration.js';

export type SecretPrefix = 'cst_' | 'csa_' | 'cag_' | 'csm_';

export interface JoinToken {
  id: string;
  secret: string;
  /** `cst_<id>.<secret>`, what the join command carries. */
  token: string;
}

/** What `checkJoinToken` needs of a stored token; times are epoch milliseconds. */
export interface JoinTokenState {
  id: string;
  expiresAt: number | null;
  /** null: unlimited uses. */
  usesLeft: number | null;
  revokedAt: number | null;
}

export type JoinTokenRefusal = 'expired' | 'used-up' | 'revoked';
export type JoinTokenCheck = { ok: true } | { ok: false; reason: JoinTokenRefusal; message: string };

const ID_BYTES = 4; // 8 hex digits: enough to tell a fleet's tokens apart, short enough to type
const SECRET_BYTES = 32; // 256 bits, 43 base64url characters
const TOKEN = /^cst_([0-9a-f]{8})\.([A-Za-z0-9_-]{32,})$/;

export function generateJoinToken(): JoinToken {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `cst_${id}.${secret}` };
}

export function parseJoinToken(text: string): { id: string; secret: string } | undefined {
  const match = TOKEN.exec(text.trim());
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : undefined;
}

/** A fresh admin (`csa_`), agent (`cag_`) or scrape (`csm_`) bearer token; store only `hashSecret` of it. */
export function generateSecret(prefix: SecretPrefix): string {
  return `${prefix}${randomBytes(ID_BYTES).toString('hex')}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/**
 * SHA-256, hex. A fast hash is right here: every secret is 256 random bits, so there is no
 * dictionary to guess from, and a slow password hash (scrypt, argon2) would only make each
 * heartbeat's credential check expensive.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests; false for anything that is not equal-length hex. */
export function safeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length || a.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(a) || !/^[0-9a-f]*$/i.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * Hides the secret part of every Cistern token in `text`: `cst_1a2b3c4d.s3cr3t` becomes
 * `cst_1a2b3c4d.***`. Anything else after a prefix becomes `cst_***`, since a mangled token
 * may still be mostly secret. A bare id (`cst_1a2b3c4d`) is left alone, so redacting twice is
 * harmless.
 */
export function redact(text: string): string {
  return text.replace(/(?<![A-Za-z0-9])(cst_|csa_|cag_|csm_|cpk_)([A-Za-z0-9_-]*)(\.[A-Za-z0-9_-]+)?/g, (whole, prefix: string, id: string, secret?: string) => {
    const idLike = /^[0-9a-f]{8}$/.test(id);
    if (secret) return idLike ? `${prefix}${id}.***` : `${prefix}***`;
    return idLike || id === '' ? whole : `${prefix}***`;
  });
}

/** Revocation wins over expiry, expiry over use count, so the message names the decisive reason. */
export function checkJoinToken(row: JoinTokenState, now: number): JoinTokenCheck {
  const name = `join token ${row.id}`;
  if (row.revokedAt !== null) return { ok: false, reason: 'revoked', message: `${name} was revoked at ${isoSeconds(row.revokedAt)}` };
  if (row.expiresAt !== null && row.expiresAt <= now) return { ok: false, reason: 'expired', message: `${name} expired at ${isoSeconds(row.expiresAt)}` };
  if (row.usesLeft !== null && row.usesLeft <= 0) return { ok: false, reason: 'used-up', message: `${name} has been used up` };
  return { ok: true };
}

/**
 * A token lifetime as typed on a command line (`30m`, `24h`, `7d`). `0` and `never` mean no
 * expiry (null); malformed text gives undefined, for the caller to report with its flag name.
 */
export function parseTtl(text: string): number | null | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'never') return null;
  const ms = parseDuration(trimmed);
  if (ms === undefined) return undefined;
  return ms === 0 ? null : ms;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

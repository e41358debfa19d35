/** Join tokens as stored: only the secret's hash, with the limits `checkJoinToken` enforces. */
import { checkJoinToken, safeEqualHex, type JoinTokenRefusal, type JoinTokenState } from '../tokens.js';
import type { Db } from './db.js';

export interface JoinTokenRow extends JoinTokenState {
  secretHash: string;
  /** The group agents joining with this token are put in. */
  group: string | null;
  description: string | null;
  createdAt: number;
  kind: TokenKind;
}

/** `provisioning`: meant to be baked into an install image, with the CA fingerprint beside it. */
export type TokenKind = 'join' | 'provisioning';

export interface NewJoinToken {
  id: string;
  secretHash: string;
  group?: string | null;
  description?: string | null;
  createdAt: number;
  expiresAt?: number | null;
  usesLeft?: number | null;
  kind?: TokenKind;
}

export type RedeemResult =
  | { ok: true; row: JoinTokenRow }
  | { ok: false; reason: 'unknown' | JoinTokenRefusal; message: string };

export interface JoinTokenStore {
  createJoinToken(token: NewJoinToken): JoinTokenRow;
  /** Oldest first. */
  listJoinTokens(): JoinTokenRow[];
  getJoinToken(id: string): JoinTokenRow | undefined;
  /**
   * Checks the secret's hash and the token's limits and takes one use, all in one IMMEDIATE
   * transaction, so two agents racing for a token's last use cannot both get it.
   */
  redeemJoinToken(id: string, secretHash: string, now: number): RedeemResult;
  /** False if no such token. Revoking twice keeps the first time. */
  revokeJoinToken(id: string, at?: number): boolean;
}

const COLUMNS = `id, secret_hash AS secretHash, grp AS "group", description, created_at AS createdAt,
  expires_at AS expiresAt, uses_left AS usesLeft, revoked_at AS revokedAt, kind`;

export function joinTokenStore(db: Db): JoinTokenStore {
  const insert = db.prepare<[JoinTokenRow], void>(`INSERT INTO join_tokens
    (id, secret_hash, grp, description, created_at, expires_at, uses_left, revoked_at, kind)
    VALUES (@id, @secretHash, @group, @description, @createdAt, @expiresAt, @usesLeft, @revokedAt, @kind)`);
  const list = db.prepare<[], JoinTokenRow>(`SELECT ${COLUMNS} FROM join_tokens ORDER BY created_at, id`);
  const get = db.prepare<[string], JoinTokenRow>(`SELECT ${COLUMNS} FROM join_tokens WHERE id = ?`);
  const takeUse = db.prepare<[string], void>('UPDATE join_tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0');
  const revoke = db.prepare<[number, string], void>('UPDATE join_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?');

  const redeem = db.transaction((id: string, secretHash: string, now: number): RedeemResult => {
    const row = get.get(id);
    // A wrong secret reads like an unknown token, so guessing tells nothing about which ids exist.
    if (!row || !safeEqualHex(row.secretHash, secretHash)) {
      return { ok: false, reason: 'unknown', message: `join token ${id} is not known to this controller` };
    }
    const check = checkJoinToken(row, now);
    if (!check.ok) return check;
    if (row.usesLeft === null) return { ok: true, row };
    takeUse.run(id);
    return { ok: true, row: { ...row, usesLeft: row.usesLeft - 1 } };
  });

  return {
    createJoinToken(token) {
      const row: JoinTokenRow = {
        id: token.id, secretHash: token.secretHash, group: token.group ?? null, description: token.description ?? null,
        createdAt: token.createdAt, expiresAt: token.expiresAt ?? null, usesLeft: token.usesLeft ?? null, revokedAt: null, kind: token.kind ?? 'join',
      };
      insert.run(row);
      return row;
    },
    listJoinTokens: () => list.all(),
    getJoinToken: (id) => get.get(id),
    redeemJoinToken: (id, secretHash, now) => redeem.immediate(id, secretHash, now),
    revokeJoinToken: (id, at = Date.now()) => revoke.run(at, id).changes > 0,
  };
}

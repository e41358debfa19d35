/**
 * What the controller's API needs of its state store, in the API's own terms. The SQLite store
 * (store/) is adapted to it in one place (store-adapter.ts), so routes are written against this
 * and nothing else.
 */
import type { EventSink } from './events.js';

export interface JoinTokenView {
  id: string;
  group: string | null;
  description: string | null;
  createdAt: number;
  expiresAt: number | null;
  usesLeft: number | null;
  revokedAt: number | null;
  kind: 'join' | 'provisioning';
}

export type RedeemResult =
  | { ok: true; token: JoinTokenView }
  | { ok: false; reason: 'unknown' | 'expired' | 'used-up' | 'revoked'; message: string };

export interface AgentRecord {
  id: string;
  name: string;
  hostname: string;
  address: string | null;
  credentialHash: string;
  ageRecipient: string;
  group: string | null;
  facts: Record<string, unknown>;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
}

/** A box the admin rejected from discovery (`cistern discover reject`), by its key fingerprint. */
export interface RejectedBox {
  fingerprint: string;
  name: string;
  address: string | null;
  rejectedAt: number;
}

export interface ControllerStore {
  meta: { get(key: string): string | undefined; set(key: string, value: string): void };
  tokens: {
    create(token: JoinTokenView & { secretHash: string }): void;
    list(): JoinTokenView[];
    redeem(id: string, secretHash: string, now: number): RedeemResult;
    revoke(id: string, now: number): boolean;
  };
  agents: {
    create(agent: AgentRecord): void;
    get(id: string): AgentRecord | undefined;
    byCredentialHash(hash: string): AgentRecord | undefined;
    list(): AgentRecord[];
    updateFacts(id: string, facts: Record<string, unknown>): void;
    touch(id: string, at: number): void;
    revoke(id: string, at: number): boolean;
  };
  rejected: {
    /** Rejecting a box again keeps the first rejection. */
    add(box: RejectedBox): void;
    list(): RejectedBox[];
    /** False if that fingerprint was not rejected. */
    remove(fingerprint: string): boolean;
  };
  events: EventSink;
  /** Runs `fn` in one transaction: a throw rolls back everything it did. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

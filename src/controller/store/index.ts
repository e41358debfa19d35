/**
 * The controller's state store (SQLite through better-sqlite3, synchronous by design: each call
 * is a short local transaction, cheaper than a round trip through the event loop).
 */
import { openDatabase } from './db.js';
import { agentStore, type AgentStore } from './agents.js';
import { eventStore, type EventStore } from './events.js';
import { metaStore, type MetaStore } from './meta.js';
import { rejectedBoxStore, type RejectedBoxStore } from './rejected.js';
import { joinTokenStore, type JoinTokenStore } from './tokens.js';

export type { AgentRow, AgentStore, Json, NewAgent } from './agents.js';
export type { EventQuery, EventRow, EventStore, NewEvent } from './events.js';
export type { MetaStore } from './meta.js';
export type { RejectedBoxRow, RejectedBoxStore } from './rejected.js';
export type { JoinTokenRow, JoinTokenStore, NewJoinToken, RedeemResult } from './tokens.js';

export interface Store extends JoinTokenStore, AgentStore, EventStore, MetaStore, RejectedBoxStore {
  readonly file: string;
  /**
   * Runs `fn` in one IMMEDIATE transaction (calls inside nest as savepoints), e.g. redeeming a
   * join token and creating the agent, so a failed registration does not use up the token.
   * `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  return {
    file,
    ...joinTokenStore(db),
    ...agentStore(db),
    ...eventStore(db),
    ...metaStore(db),
    ...rejectedBoxStore(db),
    transaction: (fn) => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}

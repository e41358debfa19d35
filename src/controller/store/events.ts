/** The event log: what happened to which server, paged by id for followers (`--follow`, UI). */
import { redact } from '../tokens.js';
import type { Db } from './db.js';

export interface EventRow {
  id: number;
  at: number;
  kind: string;
  server: string | null;
  data: unknown;
}

export interface NewEvent {
  at: number;
  kind: string;
  server?: string | null;
  data?: unknown;
}

export interface EventQuery {
  /** Only events with a larger id: the last id a reader has seen. */
  afterId?: number;
  server?: string;
  limit: number;
  /** The last `limit` matching events instead of the first (still oldest first). */
  newest?: boolean;
}

export interface EventStore {
  /** Returns the new event's id. */
  addEvent(event: NewEvent): number;
  /** Oldest first, at most `limit`: the first ones after `afterId`, or with `newest` the last ones. */
  listEvents(query: EventQuery): EventRow[];
}

interface RawEvent { id: number; at: number; kind: string; server: string | null; data: string }

export function eventStore(db: Db): EventStore {
  const insert = db.prepare<[number, string, string | null, string], void>('INSERT INTO events (at, kind, server, data) VALUES (?, ?, ?, ?)');
  const columns = 'SELECT id, at, kind, server, data FROM events';
  const all = db.prepare<[number, number], RawEvent>(`${columns} WHERE id > ? ORDER BY id LIMIT ?`);
  const forServer = db.prepare<[string, number, number], RawEvent>(`${columns} WHERE server = ? AND id > ? ORDER BY id LIMIT ?`);
  const allNewest = db.prepare<[number, number], RawEvent>(`SELECT * FROM (${columns} WHERE id > ? ORDER BY id DESC LIMIT ?) ORDER BY id`);
  const forServerNewest = db.prepare<[string, number, number], RawEvent>(`SELECT * FROM (${columns} WHERE server = ? AND id > ? ORDER BY id DESC LIMIT ?) ORDER BY id`);
  return {
    addEvent(event) {
      // Event data often carries error messages; a token pasted into one must not be kept.
      const data = redact(JSON.stringify(event.data ?? null));
      return Number(insert.run(event.at, event.kind, event.server ?? null, data).lastInsertRowid);
    },
    listEvents({ afterId = 0, server, limit, newest: last = false }) {
      const max = Math.max(0, Math.floor(limit)); // SQLite reads a negative LIMIT as "no limit"
      const rows = server === undefined ? (last ? allNewest : all).all(afterId, max) : (last ? forServerNewest : forServer).all(server, afterId, max);
      return rows.map((row) => ({ ...row, data: JSON.parse(row.data) as unknown }));
    },
  };
}

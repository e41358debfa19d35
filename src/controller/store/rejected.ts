/** Boxes rejected from discovery, by key fingerprint, with the name and address they had then. */
import type { Db } from './db.js';

export interface RejectedBoxRow {
  /** `sha256:` + hex, as the box's records and pending connection give it. */
  fingerprint: string;
  name: string;
  address: string | null;
  rejectedAt: number;
}

export interface RejectedBoxStore {
  /** Rejecting a box again keeps the first time and name. */
  rejectBox(row: RejectedBoxRow): void;
  /** Oldest first (then by name). */
  listRejectedBoxes(): RejectedBoxRow[];
  /** False if that fingerprint was not rejected. */
  unrejectBox(fingerprint: string): boolean;
}

const COLUMNS = 'fingerprint, name, address, rejected_at AS rejectedAt';

export function rejectedBoxStore(db: Db): RejectedBoxStore {
  const insert = db.prepare<[RejectedBoxRow], void>(`INSERT INTO rejected_boxes (fingerprint, name, address, rejected_at)
    VALUES (@fingerprint, @name, @address, @rejectedAt) ON CONFLICT (fingerprint) DO NOTHING`);
  const list = db.prepare<[], RejectedBoxRow>(`SELECT ${COLUMNS} FROM rejected_boxes ORDER BY rejected_at, name, fingerprint`);
  const remove = db.prepare<[string], void>('DELETE FROM rejected_boxes WHERE fingerprint = ?');
  return {
    rejectBox: (row) => void insert.run(row),
    listRejectedBoxes: () => list.all(),
    unrejectBox: (fingerprint) => remove.run(fingerprint).changes > 0,
  };
}

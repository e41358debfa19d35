import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testStore } from '../../testing/store.js';
import { tempDir } from '../../testing/tmp.js';
import { migrate } from './db.js';
import { MIGRATIONS } from './migrations.js';

const NOW = Date.parse('2026-11-28T10:00:00Z');
const fp = (c: string) => `sha256:${c.repeat(64)}`;

describe('rejected box store', () => {
  it('remembers rejected boxes by fingerprint, oldest first, and forgets one on unreject', () => {
    const store = testStore();
    store.rejectBox({ fingerprint: fp('b'), name: 'shed', address: '10.0.0.9', rejectedAt: NOW + 1 });
    store.rejectBox({ fingerprint: fp('a'), name: 'attic', address: null, rejectedAt: NOW });
    expect(store.listRejectedBoxes()).toEqual([
      { fingerprint: fp('a'), name: 'attic', address: null, rejectedAt: NOW },
      { fingerprint: fp('b'), name: 'shed', address: '10.0.0.9', rejectedAt: NOW + 1 },
    ]);
    expect(store.unrejectBox(fp('a'))).toBe(true);
    expect(store.unrejectBox(fp('a'))).toBe(false);
    expect(store.listRejectedBoxes().map((r) => r.name)).toEqual(['shed']);
  });

  it('keeps the first rejection when a box is rejected twice', () => {
    const store = testStore();
    store.rejectBox({ fingerprint: fp('c'), name: 'first', address: null, rejectedAt: NOW });
    store.rejectBox({ fingerprint: fp('c'), name: 'second', address: '10.0.0.2', rejectedAt: NOW + 5 });
    expect(store.listRejectedBoxes()).toEqual([{ fingerprint: fp('c'), name: 'first', address: null, rejectedAt: NOW }]);
  });

  it('is added to a database made before it, keeping what was there', () => {
    const file = join(tempDir(), 'cistern.db');
    const old = new Database(file);
    migrate(old, file, MIGRATIONS.slice(0, 2));
    old.prepare("INSERT INTO meta (key, value) VALUES ('admin-token-hash', 'abc')").run();
    old.close();
    const store = testStore(file);
    expect(store.getMeta('admin-token-hash')).toBe('abc');
    expect(store.listRejectedBoxes()).toEqual([]);
    store.rejectBox({ fingerprint: fp('d'), name: 'den', address: null, rejectedAt: NOW });
    expect(store.listRejectedBoxes()).toHaveLength(1);
  });
});

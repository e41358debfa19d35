/** Controller-wide settings as key/value text, such as the admin token's hash. */
import type { Db } from './db.js';

export interface MetaStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

export function metaStore(db: Db): MetaStore {
  const get = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
  const set = db.prepare<[string, string], void>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    getMeta: (key) => get.get(key),
    setMeta: (key, value) => void set.run(key, value),
  };
}

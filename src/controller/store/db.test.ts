import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/tmp.js';
import { migrate, openDatabase, userVersion, type Db } from './db.js';
import { openStore, type Store } from './index.js';
import { MIGRATIONS } from './migrations.js';

const open: Array<Store | Db> = [];
afterEach(() => {
  for (const handle of open.splice(0)) handle.close();
});
function track<T extends Store | Db>(handle: T): T {
  open.push(handle);
  return handle;
}

describe('openStore', () => {
  it('creates a private database at the latest version, in WAL mode', () => {
    const file = join(tempDir(), 'state', 'cistern.db');
    const store = track(openStore(file));
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const raw = track(new Database(file, { readonly: true }));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(userVersion(raw)).toBe(MIGRATIONS.length);
    const tables = raw.prepare('SELECT name FROM sqlite_schema WHERE type = ? ORDER BY name').pluck().all('table');
    expect(tables).toEqual(expect.arrayContaining(['agents', 'events', 'join_tokens', 'meta']));
    expect(store.file).toBe(file);
  });

  it('sets the connection pragmas', () => {
    const db = track(openDatabase(join(tempDir(), 'cistern.db')));
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
  });

  it('keeps data across a reopen', () => {
    const file = join(tempDir(), 'cistern.db');
    const first = openStore(file);
    first.setMeta('admin-token-hash', 'abc');
    first.setMeta('admin-token-hash', 'def');
    first.close();
    const again = track(openStore(file));
    expect(again.getMeta('admin-token-hash')).toBe('def');
    expect(again.getMeta('missing')).toBeUndefined();
  });

  it('refuses a database from a newer cistern without touching it', () => {
    const file = join(tempDir(), 'cistern.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openStore(file)).toThrow(expect.objectContaining({
      code: 'E_STORE_VERSION',
      message: `${file} has schema version ${MIGRATIONS.length + 1}, but this cistern knows versions up to ${MIGRATIONS.length}`,
    }));
    const after = track(new Database(file, { readonly: true }));
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});

describe('migrate', () => {
  it('applies each migration in its own transaction and stops at a failing one', () => {
    const db = track(new Database(join(tempDir(), 'test.db')));
    const steps = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER); THIS IS NOT SQL', 'CREATE TABLE c (x INTEGER)'];
    expect(() => migrate(db, 'test.db', steps)).toThrow(/syntax error/);
    expect(userVersion(db)).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(['a']);
    migrate(db, 'test.db', ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER)']);
    expect(userVersion(db)).toBe(2);
  });
});

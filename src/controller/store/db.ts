/**
 * Opening the state database: private file, WAL, and the schema brought up to date. One
 * controller process owns the file; the CLI talks to the controller, not to the database.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CisternError } from '../../errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

const BUSY_TIMEOUT_MS = 5_000;

export function openDatabase(file: string): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Create the file 0600 before SQLite does (it would follow the umask); its -wal and -shm
  // files copy the database file's mode.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Refuse a newer database before changing anything in it, journal mode included.
    refuseNewer(file, userVersion(db), MIGRATIONS.length);
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL cannot corrupt the database; a power cut loses at most the last commits,
    // and a heartbeat's write costs no fsync.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Applies the migrations past `PRAGMA user_version`, each in its own IMMEDIATE transaction that
 * also bumps the version, so a failure leaves the database at the last good version, and a
 * second process opening the same file at the same moment waits instead of migrating twice.
 */
export function migrate(db: Db, file: string, migrations: readonly string[] = MIGRATIONS): void {
  for (;;) {
    const applied = db.transaction(() => {
      const version = userVersion(db);
      refuseNewer(file, version, migrations.length);
      const sql = migrations[version];
      if (sql === undefined) return false;
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
      return true;
    }).immediate();
    if (!applied) return;
  }
}

export function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function refuseNewer(file: string, version: number, known: number): void {
  if (version <= known) return;
  throw new CisternError('E_STORE_VERSION', `${file} has schema version ${version}, but this cistern knows versions up to ${known}`, {
    hint: 'a newer cistern wrote this database: upgrade cistern, or restore a backup made by this version',
    details: { file, version, known },
  });
}

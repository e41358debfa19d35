/**
 * The schema, as an ordered list: migration i brings the database to `PRAGMA user_version` i + 1.
 * Append only; never edit a migration once released, since databases in the field ran it.
 * Times are epoch milliseconds. Tables are STRICT so a wrong type fails instead of being stored.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE join_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    grp         TEXT,
    description TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    uses_left   INTEGER CHECK (uses_left >= 0),
    revoked_at  INTEGER
  ) STRICT;

  CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    hostname        TEXT NOT NULL,
    address         TEXT,
    credential_hash TEXT NOT NULL UNIQUE,
    age_recipient   TEXT,
    grp             TEXT,
    facts           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(facts)),
    profile         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(profile)),
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER,
    revoked_at      INTEGER
  ) STRICT;

  -- AUTOINCREMENT: ids are never reused after old events are pruned, so a client paging with
  -- "after id N" cannot miss or repeat events.
  CREATE TABLE events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    server TEXT,
    data   TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(data))
  ) STRICT;
  CREATE INDEX events_by_server ON events (server, id);

  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // Provisioning keys (baked into install images) are join tokens shown with the CA fingerprint.
  `ALTER TABLE join_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'join' CHECK (kind IN ('join', 'provisioning'));`,
  // Boxes the admin said no to in `cistern discover reject`, by key fingerprint: a rejected box
  // that reconnects is refused at once and never listed as pending again, until unrejected.
  `
  CREATE TABLE rejected_boxes (
    fingerprint TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT,
    rejected_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
];

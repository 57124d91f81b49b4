import type Database from 'better-sqlite3';
import { IncompatibleSchemaError } from './errors.ts';
import { FEEDBACK_TYPES } from './types.ts';

/**
 * Schema history. Migration i takes `PRAGMA user_version` from i to i+1. Append only: a shipped
 * migration has already run on someone's database, so editing it would fork the schema.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- Integer surrogate keys: feedback rows (the bulk of the data) reference users and items by
  -- integer, so each external id string is stored once.
  CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    external_id TEXT    NOT NULL UNIQUE,
    title       TEXT,
    categories  TEXT    NOT NULL DEFAULT '[]',
    metadata    TEXT    NOT NULL DEFAULT '{}',
    available   INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );

  CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    external_id  TEXT    NOT NULL UNIQUE,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    interactions INTEGER NOT NULL DEFAULT 0
  );

  -- AUTOINCREMENT so ids are never reused after deletes: models record the highest id they saw
  -- and anything above it must be genuinely new.
  CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    item_id     INTEGER NOT NULL REFERENCES items (id),
    type        TEXT    NOT NULL CHECK (type IN (${FEEDBACK_TYPES.map((t) => `'${t}'`).join(', ')})),
    value       REAL,
    ts          INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX feedback_dedup ON feedback (user_id, item_id, type, ts);
  CREATE INDEX feedback_user_ts ON feedback (user_id, ts);

  -- AUTOINCREMENT so a version number is never handed out twice, even after pruning.
  CREATE TABLE models (
    version            INTEGER PRIMARY KEY AUTOINCREMENT,
    algorithm          TEXT    NOT NULL,
    params             TEXT    NOT NULL,
    metrics            TEXT    NOT NULL,
    trained_at         INTEGER NOT NULL,
    feedback_watermark INTEGER NOT NULL,
    sha256             TEXT    NOT NULL,
    bytes              BLOB    NOT NULL
  );
  `,
  `
  -- Users posting faster than any person could are flagged: their events are kept but
  -- quarantined from training and fold-in until an admin clears the flag.
  ALTER TABLE users ADD COLUMN flagged_at INTEGER;
  ALTER TABLE users ADD COLUMN flag_reason TEXT;
  CREATE INDEX feedback_item ON feedback (item_id);
  `,
  `
  -- What operators look at: recent arrival rates, evaluation runs, and who did what.
  CREATE INDEX feedback_received ON feedback (received_at);
  CREATE TABLE evaluations (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    summary    TEXT    NOT NULL
  );
  -- Subjects of privacy-sensitive actions are stored as salted hashes, never raw ids.
  CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    action  TEXT    NOT NULL,
    subject TEXT,
    detail  TEXT    NOT NULL DEFAULT '{}'
  );
  `,
];

/**
 * Applies pending migrations in one IMMEDIATE transaction: the version is re-read under the write
 * lock so two processes opening the same new file cannot both run migration 0.
 */
export function migrate(db: Database.Database, migrations: readonly string[] = MIGRATIONS): void {
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > migrations.length) {
      throw new IncompatibleSchemaError(
        `database schema version ${current} is newer than this build supports (${migrations.length}); upgrade liverec`,
      );
    }
    for (let version = current; version < migrations.length; version++) {
      db.exec(migrations[version]);
      // PRAGMA cannot take bound parameters; version is an integer we computed.
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

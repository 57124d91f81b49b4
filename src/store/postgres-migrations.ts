import type { PgSql } from './postgres-connect.ts';
import { IncompatibleSchemaError } from './errors.ts';
import { FEEDBACK_TYPES } from './types.ts';

/**
 * PostgreSQL schema history. Migration i takes `liverec_schema.version` from i to i+1. Append
 * only: a shipped migration has already run on someone's database, so editing it would fork the
 * schema. Times are epoch milliseconds in bigint columns, like the SQLite schema.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  -- Integer surrogate keys: feedback rows (the bulk of the data) reference users and items by
  -- integer, so each external id string is stored once. json (not jsonb) where the client's
  -- text must come back as sent (key order); categories are plain arrays.
  CREATE TABLE items (
    id          bigserial PRIMARY KEY,
    external_id text    NOT NULL UNIQUE,
    title       text,
    categories  jsonb   NOT NULL DEFAULT '[]',
    metadata    json    NOT NULL DEFAULT '{}',
    available   boolean NOT NULL DEFAULT true,
    created_at  bigint  NOT NULL,
    updated_at  bigint  NOT NULL
  );

  CREATE TABLE users (
    id           bigserial PRIMARY KEY,
    external_id  text   NOT NULL UNIQUE,
    first_seen   bigint NOT NULL,
    last_seen    bigint NOT NULL,
    -- Kept by the trigger below: exactly the rows an INSERT really stored.
    interactions bigint NOT NULL DEFAULT 0,
    -- Set while quarantined: events kept but left out of training and fold-in.
    flagged_at   bigint,
    flag_reason  text
  );

  -- Sequence ids are never reused: models record the highest feedback id they saw.
  CREATE TABLE feedback (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    item_id     bigint NOT NULL REFERENCES items (id),
    type        text   NOT NULL CHECK (type IN (${FEEDBACK_TYPES.map((t) => `'${t}'`).join(', ')})),
    value       double precision,
    ts          bigint NOT NULL,
    received_at bigint NOT NULL,
    CONSTRAINT feedback_dedup UNIQUE (user_id, item_id, type, ts)
  );
  -- A user's history by time (fold-in, watermarks, training's per-user stream); an item's events;
  -- arrivals and retention by server time.
  CREATE INDEX feedback_user_ts ON feedback (user_id, ts, id);
  CREATE INDEX feedback_item ON feedback (item_id);
  CREATE INDEX feedback_received ON feedback (received_at);

  -- interactions counts stored rows only: ON CONFLICT DO NOTHING skips duplicates, and the
  -- transition table holds exactly the rows inserted. A statement trigger, because the insert
  -- runs in the same statement that upserts the users (a row cannot be updated twice there).
  CREATE FUNCTION liverec_count_interactions() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE users u SET interactions = u.interactions + n.added
    FROM (SELECT user_id, count(*) AS added FROM inserted GROUP BY user_id) n
    WHERE u.id = n.user_id;
    RETURN NULL;
  END
  $$;
  CREATE TRIGGER feedback_interactions AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION liverec_count_interactions();

  -- The bytes live in chunks: the driver moves bytea as hex text, and one value per model would
  -- need a string twice the model's size (V8 caps strings near 512 MB).
  CREATE TABLE models (
    version            bigserial PRIMARY KEY,
    algorithm          text   NOT NULL,
    params             json   NOT NULL,
    metrics            json   NOT NULL,
    trained_at         bigint NOT NULL,
    feedback_watermark bigint NOT NULL,
    sha256             text   NOT NULL,
    size               bigint NOT NULL
  );
  CREATE TABLE model_chunks (
    version bigint  NOT NULL REFERENCES models (version) ON DELETE CASCADE,
    seq     integer NOT NULL,
    bytes   bytea   NOT NULL,
    PRIMARY KEY (version, seq)
  );

  CREATE TABLE evaluations (
    id         bigserial PRIMARY KEY,
    kind       text   NOT NULL,
    created_at bigint NOT NULL,
    summary    json   NOT NULL
  );
  -- Subjects of privacy-sensitive actions are stored as salted hashes, never raw ids.
  CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      bigint NOT NULL,
    action  text   NOT NULL,
    subject text,
    detail  json   NOT NULL DEFAULT '{}'
  );

  -- What one server changed that the others must apply, written in the changing transaction.
  -- Ids are handed out under a transaction-level advisory lock, so they commit in id order and a
  -- reader that has seen id n has seen every change below it.
  CREATE TABLE changes (
    id      bigserial PRIMARY KEY,
    kind    text   NOT NULL CHECK (kind IN ('items', 'flags', 'erase', 'model')),
    subject text[] NOT NULL,
    at      bigint NOT NULL
  );
  `,
];

/** Key of the advisory lock migrations run under (first half of a two-int key; see postgres-replication.ts). */
export const LIVEREC_LOCK_SPACE = 0x4c565243; // 'LVRC'
const MIGRATION_LOCK = 1;

/**
 * Applies pending migrations in one transaction under a transaction-level advisory lock: two
 * servers starting at once queue, and the second finds the schema current.
 */
export async function migratePostgres(sql: PgSql, migrations: readonly string[] = PG_MIGRATIONS): Promise<void> {
  await sql.begin(async (tx) => {
    // A migration may take long, and so may waiting for another server's: neither is a request.
    await tx.unsafe('SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0');
    await tx`SELECT pg_advisory_xact_lock(${LIVEREC_LOCK_SPACE}::int, ${MIGRATION_LOCK}::int)`;
    await tx`CREATE TABLE IF NOT EXISTS liverec_schema (version integer NOT NULL)`;
    const [row] = await tx<Array<{ version: number }>>`SELECT version FROM liverec_schema`;
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new IncompatibleSchemaError(
        `database schema version ${current} is newer than this build supports (${migrations.length}); upgrade liverec`,
      );
    }
    for (let version = current; version < migrations.length; version++) await tx.unsafe(migrations[version]);
    if (!row) await tx`INSERT INTO liverec_schema (version) VALUES (${migrations.length})`;
    else if (current !== migrations.length) await tx`UPDATE liverec_schema SET version = ${migrations.length}`;
  });
}

/** The schema version recorded in the database; 0 before the first migration. */
export async function postgresSchemaVersion(sql: PgSql): Promise<number> {
  const [exists] = await sql<Array<{ found: boolean }>>`SELECT to_regclass('liverec_schema') IS NOT NULL AS found`;
  if (!exists.found) return 0;
  const [row] = await sql<Array<{ version: number }>>`SELECT version FROM liverec_schema`;
  return row?.version ?? 0;
}

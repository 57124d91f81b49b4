import { NotFoundError } from './errors.ts';
import { userHistories } from './histories.ts';
import { LIFT_TIMEOUTS, type PgSql } from './postgres-connect.ts';
import { CHANGE_LOCK, CHANGES_CHANNEL } from './postgres-replication.ts';
import type { AddFeedbackOptions, AddFeedbackResult, FeedbackInput, FeedbackRecord, FeedbackType } from './types.ts';

/**
 * The feedback log on PostgreSQL: appends and the reads training and serving need. Functions of
 * the pool so PostgresStore stays a thin list of verbs; each runs as one statement unless noted.
 */

// Aliased to FeedbackRecord's field names so rows need no per-row mapping when streaming millions.
const FEEDBACK_SELECT = `SELECT f.id, u.external_id AS "userId", i.external_id AS "itemId", f.type, f.value,
  f.ts AS "timestamp", f.received_at AS "receivedAt"
  FROM feedback f JOIN users u ON u.id = f.user_id JOIN items i ON i.id = f.item_id`;

/** Above this many events addFeedback has its statement planned for the array at hand. */
const BULK_EVENTS = 64;

/** Rows fetched per round trip when streaming the log. */
const CURSOR_ROWS = 2000;

interface AddRow {
  missing: string | null;
  created: string[];
  stored: number[];
}

/**
 * All or nothing, in one statement, set-based over the whole array. Steps, each a CTE: look the
 * items up; create the missing ones (when allowed) or, when one is missing and creation is not
 * allowed, write nothing and name the first; upsert the users (first/last seen by event time);
 * insert the first of each group of identical events, ON CONFLICT DO NOTHING against stored
 * ones; the statement trigger then counts interactions for the rows really inserted. Items
 * created here are published as an 'items' change like any upsert, the change lock taken last.
 * New items and users are written in the byte order of their ids, the same in every batch, so
 * two servers creating the same ones at once queue instead of deadlocking.
 * $1–$5: user ids, item ids, types, values, timestamps; $6 receivedAt; $7 createMissingItems.
 */
const ADD_FEEDBACK = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int8[])
      WITH ORDINALITY AS e (user_ext, item_ext, type, value, ts, ord)
  ),
  wanted AS (SELECT item_ext, min(ord) AS ord FROM input GROUP BY item_ext),
  known AS (SELECT i.id, i.external_id FROM items i JOIN wanted w ON w.item_ext = i.external_id),
  missing AS (
    SELECT w.item_ext, w.ord FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.external_id = w.item_ext)
  ),
  created AS (
    -- DO UPDATE (a no-op) rather than DO NOTHING: an item another server created since this
    -- statement's snapshot still returns its id; xmax = 0 tells the rows inserted here.
    INSERT INTO items AS i (external_id, created_at, updated_at)
    SELECT item_ext, $6::int8, $6::int8 FROM missing WHERE $7::boolean ORDER BY item_ext COLLATE "C"
    ON CONFLICT (external_id) DO UPDATE SET external_id = excluded.external_id
    RETURNING i.id, i.external_id, (i.xmax = 0) AS inserted
  ),
  item_ids AS (SELECT id, external_id FROM known UNION ALL SELECT id, external_id FROM created),
  seen AS (
    INSERT INTO users AS u (external_id, first_seen, last_seen)
    SELECT user_ext, min(ts), max(ts) FROM input
    WHERE $7::boolean OR NOT EXISTS (SELECT 1 FROM missing)
    GROUP BY user_ext ORDER BY user_ext COLLATE "C"
    ON CONFLICT (external_id) DO UPDATE SET
      first_seen = least(u.first_seen, excluded.first_seen), last_seen = greatest(u.last_seen, excluded.last_seen)
    RETURNING u.id, u.external_id
  ),
  rows AS (
    SELECT e.ord, s.id AS user_id, it.id AS item_id, e.type, e.value, e.ts,
      e.ord = min(e.ord) OVER (PARTITION BY s.id, it.id, e.type, e.ts) AS first
    FROM input e JOIN seen s ON s.external_id = e.user_ext JOIN item_ids it ON it.external_id = e.item_ext
  ),
  stored AS (
    INSERT INTO feedback (user_id, item_id, type, value, ts, received_at)
    SELECT user_id, item_id, type, value, ts, $6::int8 FROM rows WHERE first ORDER BY ord
    ON CONFLICT (user_id, item_id, type, ts) DO NOTHING
    RETURNING user_id, item_id, type, ts
  ),
  new_items AS (SELECT c.external_id, m.ord FROM created c JOIN missing m ON m.item_ext = c.external_id WHERE c.inserted),
  change AS (
    INSERT INTO changes (kind, subject, at)
    SELECT 'items', n.ids, $6::int8
    FROM (SELECT array_agg(external_id ORDER BY ord) AS ids, (SELECT count(*) FROM stored) AS after FROM new_items) n,
      LATERAL (SELECT ${CHANGE_LOCK} WHERE n.ids IS NOT NULL) l
    WHERE n.ids IS NOT NULL
    RETURNING id
  ),
  notified AS (SELECT pg_notify('${CHANGES_CHANNEL}', '{"kind":"items"}') FROM change)
  SELECT
    (SELECT item_ext FROM missing ORDER BY ord LIMIT 1) AS missing,
    (SELECT coalesce(array_agg(external_id ORDER BY ord), '{}') FROM new_items) AS created,
    (SELECT coalesce(array_agg(r.ord), '{}') FROM rows r JOIN stored s USING (user_id, item_id, type, ts) WHERE r.first) AS stored,
    (SELECT count(*) FROM notified) AS notified`;

/**
 * A few events (live posts) run as a named prepared statement whose cached plan makes them one
 * round trip. Bigger arrays go as an unnamed statement, planned for the array at hand: a plan
 * cached for one-event arrays could join thousands of rows one by one.
 */
export async function addFeedback(sql: PgSql, events: FeedbackInput[], options: AddFeedbackOptions): Promise<AddFeedbackResult> {
  const n = events.length;
  if (n === 0) return { accepted: 0, duplicates: 0, stored: [], createdItems: [] };
  const users = new Array<string>(n);
  const items = new Array<string>(n);
  const types = new Array<string>(n);
  const values = new Array<number | null>(n);
  const times = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const e = events[k];
    users[k] = e.userId;
    items[k] = e.itemId;
    types[k] = e.type;
    values[k] = e.value ?? null;
    times[k] = e.timestamp;
  }
  const create = options.createMissingItems;
  const parameters = [users, items, types, values, times, options.receivedAt ?? Date.now(), create];
  const [row] = await sql.unsafe<AddRow[]>(ADD_FEEDBACK, parameters, { prepare: n <= BULK_EVENTS });
  if (!create && row.missing !== null) {
    throw new NotFoundError('itemId', row.missing, `itemId '${row.missing}' does not exist; feedback must reference a known item unless createMissingItems is set`);
  }
  const stored = new Array<boolean>(n).fill(false);
  for (const ord of row.stored) stored[ord - 1] = true;
  const accepted = row.stored.length;
  return { accepted, duplicates: n - accepted, stored, createdItems: row.created };
}

export async function userFeedback(sql: PgSql, userId: string): Promise<FeedbackRecord[]> {
  return sql<FeedbackRecord[]>`${sql.unsafe(FEEDBACK_SELECT)} WHERE u.external_id = ${userId} ORDER BY f.ts, f.id`;
}

export async function itemFeedback(sql: PgSql, itemId: string): Promise<FeedbackRecord[]> {
  return sql<FeedbackRecord[]>`${sql.unsafe(FEEDBACK_SELECT)} WHERE i.external_id = ${itemId} ORDER BY f.ts, f.id`;
}

export async function userWatermark(sql: PgSql, userId: string): Promise<{ count: number; maxId: number }> {
  const [row] = await sql<Array<{ count: number; maxId: number }>>`
    SELECT count(*) AS count, coalesce(max(f.id), 0) AS "maxId" FROM feedback f
    WHERE f.user_id = (SELECT id FROM users WHERE external_id = ${userId})`;
  return { count: row.count, maxId: row.maxId };
}

export async function feedbackSince(sql: PgSql, afterId: number, limit?: number): Promise<FeedbackRecord[]> {
  // LIMIT NULL is no limit.
  return sql<FeedbackRecord[]>`${sql.unsafe(FEEDBACK_SELECT)} WHERE f.id > ${afterId} ORDER BY f.id LIMIT ${limit ?? null}::bigint`;
}

/** Streams with a server-side cursor in one transaction (one snapshot), never holding the log. */
export async function forEachFeedback(sql: PgSql, fn: (row: FeedbackRecord) => void): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    await tx<FeedbackRecord[]>`${tx.unsafe(FEEDBACK_SELECT)} ORDER BY f.id`.cursor(CURSOR_ROWS, (rows) => {
      for (const row of rows) fn(row);
    });
  });
}

export async function forEachUserHistory(
  sql: PgSql, fn: (userId: string, events: FeedbackRecord[]) => void, includeFlagged: boolean,
): Promise<void> {
  const histories = userHistories(fn);
  await sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    await tx<FeedbackRecord[]>`${tx.unsafe(FEEDBACK_SELECT)} WHERE ${includeFlagged}::boolean OR u.flagged_at IS NULL
      ORDER BY f.user_id, f.ts, f.id`.cursor(CURSOR_ROWS, (rows) => {
      for (const row of rows) histories.add(row);
    });
  });
  histories.end();
}

/** As SQLite's: one aggregate in the database, anchored at the newest event. */
export async function decayedItemCounts(
  sql: PgSql, halfLifeMs: number, types: FeedbackType[], ratingSign: number,
): Promise<{ anchor: number; items: Array<{ itemId: string; weight: number }> }> {
  const sign = Math.sign(ratingSign);
  const rows = await sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    // power() raises on underflow instead of returning 0, so terms below 2^-1074 are 0 explicitly.
    return tx<Array<{ anchor: number; itemId: string | null; weight: number | null }>>`
      WITH a AS (SELECT coalesce(max(ts), 0) AS anchor FROM feedback)
      SELECT a.anchor, i.external_id AS "itemId", w.weight
      FROM a LEFT JOIN LATERAL (
        SELECT item_id, sum(CASE
          WHEN ${halfLifeMs}::float8 <= 0 THEN 1
          WHEN (ts - a.anchor)::float8 / ${halfLifeMs}::float8 < -1074 THEN 0
          ELSE power(2::float8, (ts - a.anchor)::float8 / ${halfLifeMs}::float8) END) AS weight
        FROM feedback
        WHERE type = ANY(${types}::text[]) OR (type = 'rating' AND ${sign}::int <> 0 AND sign(value) = ${sign}::int)
        GROUP BY item_id
      ) w ON true
      LEFT JOIN items i ON i.id = w.item_id`;
  });
  const anchor = rows[0]?.anchor ?? 0;
  const items: Array<{ itemId: string; weight: number }> = [];
  for (const r of rows) if (r.itemId !== null) items.push({ itemId: r.itemId, weight: r.weight! });
  return { anchor, items };
}

export async function arrivalsSince(sql: PgSql, since: number): Promise<Array<{ minute: number; type: FeedbackType; count: number }>> {
  return sql<Array<{ minute: number; type: FeedbackType; count: number }>>`
    SELECT (received_at / 60000) * 60000 AS minute, type, count(*) AS count FROM feedback
    WHERE received_at >= ${since} GROUP BY 1, 2 ORDER BY 1, 2`;
}

export async function countsByType(sql: PgSql): Promise<Partial<Record<FeedbackType, number>>> {
  const rows = await sql<Array<{ type: FeedbackType; count: number }>>`SELECT type, count(*) AS count FROM feedback GROUP BY type`;
  return Object.fromEntries(rows.map((r) => [r.type, r.count]));
}

export async function countFeedback(sql: PgSql): Promise<number> {
  const [row] = await sql<Array<{ count: number }>>`SELECT count(*) AS count FROM feedback`;
  return row.count;
}

export async function maxFeedbackId(sql: PgSql): Promise<number> {
  const [row] = await sql<Array<{ max: number }>>`SELECT coalesce(max(id), 0) AS max FROM feedback`;
  return row.max;
}

export async function usersWithFeedbackAfter(sql: PgSql, afterId: number): Promise<string[]> {
  // Byte order, as SQLite's BINARY collation sorts.
  const rows = await sql<Array<{ id: string }>>`
    SELECT DISTINCT u.external_id COLLATE "C" AS id FROM feedback f JOIN users u ON u.id = f.user_id
    WHERE f.id > ${afterId} ORDER BY 1`;
  return rows.map((r) => r.id);
}

/** One transaction: old events, then users left without any, then interactions recounted. */
export async function pruneFeedback(sql: PgSql, before: number): Promise<number> {
  return sql.begin(async (tx) => {
    await tx.unsafe(LIFT_TIMEOUTS);
    const removed = await tx`DELETE FROM feedback WHERE received_at < ${before}`;
    await tx`DELETE FROM users u WHERE NOT EXISTS (SELECT 1 FROM feedback f WHERE f.user_id = u.id)`;
    await tx`UPDATE users u SET interactions = c.n
      FROM (SELECT user_id, count(*) AS n FROM feedback GROUP BY user_id) c
      WHERE u.id = c.user_id AND u.interactions <> c.n`;
    return removed.count;
  });
}

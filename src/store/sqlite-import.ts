import type Database from 'better-sqlite3';
import type { FeedbackInput } from './types.ts';

/** Staged rows per INSERT statement: one native call per row would cost more than SQLite's own work. */
const ROWS_PER_STATEMENT = 100;
/** Page cache while merging (KiB, SQLite's negative form): the feedback indexes of a large load stay in memory. */
const MERGE_CACHE_KIB = 512 * 1024;

/**
 * A bulk load into SQLite, staged then merged. `add` appends rows to a TEMP table (this
 * connection's own file, no index, no journal fsync, no lock on the database), with users and
 * items replaced by small integers from maps kept here, so each row costs a few appends instead
 * of the four indexed statements of addFeedback. `finish` stores everything in ONE IMMEDIATE
 * transaction, so the load is all or nothing and durable at its commit (synchronous = FULL):
 * items and users are upserted once each, the rows inserted in (user, item, type, time) order —
 * appends to the dedup and history indexes rather than random inserts — with ON CONFLICT against
 * the dedup index storing exact duplicates once (the first in input order: ties keep staging
 * order), and interaction counts added per user from the rows really inserted. When the load at
 * least doubles the table, the secondary feedback indexes are dropped and rebuilt inside that
 * same transaction: one sort each beats millions of B-tree inserts, and no commit ever sees the
 * table without them. Writers on other connections wait only for `finish`. Synchronous, like
 * better-sqlite3; SqliteStore wraps it as the asynchronous FeedbackImport.
 */
export class SqliteImport {
  private readonly users = new Map<string, number>();
  private readonly items = new Map<string, number>();
  /** First and last event time per staged user, by staging index. */
  private readonly first: number[] = [];
  private readonly last: number[] = [];
  private staged = 0;
  private readonly insertMany: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly args: unknown[] = [];

  constructor(private readonly db: Database.Database) {
    db.exec(`DROP TABLE IF EXISTS temp.import_rows;
      CREATE TEMP TABLE import_rows (u INTEGER NOT NULL, i INTEGER NOT NULL, type TEXT NOT NULL, value REAL, ts INTEGER NOT NULL)`);
    const row = '(?, ?, ?, ?, ?)';
    this.insertMany = db.prepare(`INSERT INTO temp.import_rows VALUES ${Array(ROWS_PER_STATEMENT).fill(row).join(', ')}`);
    this.insertOne = db.prepare(`INSERT INTO temp.import_rows VALUES ${row}`);
  }

  add(events: FeedbackInput[]): void {
    const { args } = this;
    for (const e of events) {
      let u = this.users.get(e.userId);
      if (u === undefined) {
        this.users.set(e.userId, (u = this.users.size));
        this.first.push(e.timestamp);
        this.last.push(e.timestamp);
      } else {
        if (e.timestamp < this.first[u]) this.first[u] = e.timestamp;
        if (e.timestamp > this.last[u]) this.last[u] = e.timestamp;
      }
      let i = this.items.get(e.itemId);
      if (i === undefined) this.items.set(e.itemId, (i = this.items.size));
      args.push(u, i, e.type, e.value, e.timestamp);
      if (args.length === ROWS_PER_STATEMENT * 5) {
        this.insertMany.run(args);
        args.length = 0;
      }
    }
    this.staged += events.length;
  }

  finish(): { accepted: number; duplicates: number } {
    const { db, args } = this;
    for (let r = 0; r < args.length; r += 5) this.insertOne.run(args.slice(r, r + 5));
    args.length = 0;
    if (this.staged === 0) return this.drop({ accepted: 0, duplicates: 0 });
    this.stageIds();
    const now = Date.now();
    const cacheSize = db.pragma('cache_size', { simple: true }) as number;
    db.pragma(`cache_size = -${MERGE_CACHE_KIB}`);
    try {
      const accepted = db.transaction(() => this.merge(now)).immediate();
      return this.drop({ accepted, duplicates: this.staged - accepted });
    } finally {
      db.pragma(`cache_size = ${cacheSize}`);
    }
  }

  abort(): void {
    this.drop(null);
  }

  /** The staged users and items with their staging indexes, for the merge to resolve. */
  private stageIds(): void {
    const { db } = this;
    db.exec(`DROP TABLE IF EXISTS temp.import_users; DROP TABLE IF EXISTS temp.import_items;
      CREATE TEMP TABLE import_users (idx INTEGER PRIMARY KEY, external_id TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, id INTEGER);
      CREATE TEMP TABLE import_items (idx INTEGER PRIMARY KEY, external_id TEXT NOT NULL, id INTEGER)`);
    const user = db.prepare('INSERT INTO temp.import_users (idx, external_id, first_seen, last_seen) VALUES (?, ?, ?, ?)');
    const item = db.prepare('INSERT INTO temp.import_items (idx, external_id) VALUES (?, ?)');
    db.transaction(() => {
      for (const [externalId, u] of this.users) user.run(u, externalId, this.first[u], this.last[u]);
      for (const [externalId, i] of this.items) item.run(i, externalId);
    })();
  }

  /** The one transaction that stores the load; returns the rows inserted. */
  private merge(now: number): number {
    const { db } = this;
    // Items in order of first mention, as addFeedback creates them; users with first/last seen by event time.
    db.prepare(`INSERT INTO items (external_id, created_at, updated_at) SELECT external_id, @now, @now FROM temp.import_items
      WHERE true ORDER BY idx ON CONFLICT (external_id) DO NOTHING`).run({ now });
    db.exec('UPDATE temp.import_items SET id = (SELECT id FROM main.items i WHERE i.external_id = import_items.external_id)');
    db.exec(`INSERT INTO users (external_id, first_seen, last_seen) SELECT external_id, first_seen, last_seen FROM temp.import_users
      WHERE true ORDER BY idx ON CONFLICT (external_id) DO UPDATE SET first_seen = min(users.first_seen, excluded.first_seen),
        last_seen = max(users.last_seen, excluded.last_seen)`);
    db.exec('UPDATE temp.import_users SET id = (SELECT id FROM main.users u WHERE u.external_id = import_users.external_id)');
    const before = db.prepare('SELECT coalesce(max(id), 0) AS maxId, count(*) AS rows FROM feedback').get() as { maxId: number; rows: number };
    const rebuild = this.staged >= before.rows ? this.dropSecondaryIndexes() : [];
    const { changes } = db.prepare(`INSERT INTO feedback (user_id, item_id, type, value, ts, received_at)
      SELECT u.id, i.id, r.type, r.value, r.ts, ? FROM temp.import_rows r
        JOIN temp.import_users u ON u.idx = r.u JOIN temp.import_items i ON i.idx = r.i
      WHERE true ORDER BY u.id, i.id, r.type, r.ts, r.rowid
      ON CONFLICT (user_id, item_id, type, ts) DO NOTHING`).run(now);
    for (const sql of rebuild) db.exec(sql);
    // AUTOINCREMENT ids are above every id ever used, so the rows above `maxId` are exactly this load's.
    db.prepare(`UPDATE users SET interactions = interactions + n.count
      FROM (SELECT user_id, count(*) AS count FROM feedback WHERE id > ? GROUP BY user_id) AS n WHERE users.id = n.user_id`).run(before.maxId);
    return changes;
  }

  /** Drops the feedback indexes the merge does not need (all but the dedup index); returns the SQL that recreates them. */
  private dropSecondaryIndexes(): string[] {
    const indexes = this.db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'feedback'
      AND sql IS NOT NULL AND name <> 'feedback_dedup'`).all() as Array<{ name: string; sql: string }>;
    for (const { name } of indexes) this.db.exec(`DROP INDEX "${name}"`);
    return indexes.map((index) => index.sql);
  }

  private drop<T>(result: T): T {
    this.db.exec('DROP TABLE IF EXISTS temp.import_rows; DROP TABLE IF EXISTS temp.import_users; DROP TABLE IF EXISTS temp.import_items');
    this.users.clear();
    this.items.clear();
    this.staged = 0;
    return result;
  }
}

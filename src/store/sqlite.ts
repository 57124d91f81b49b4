import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { CorruptModelError, IncompatibleSchemaError, NotFoundError, StoreUnavailableError, translateSqliteError } from './errors.ts';
import { userHistories } from './histories.ts';
import { MIGRATIONS, migrate, schemaVersion } from './migrations.ts';
import { SqliteImport } from './sqlite-import.ts';
import type {
  AddFeedbackOptions, AddFeedbackResult, AuditEntry, FeedbackImport, Evaluation, FeedbackInput, FeedbackType, FeedbackRecord, FileMaintenance, ItemInput, ItemRecord, ModelMeta,
  Store, UserRecord,
} from './types.ts';

/** How long a write waits for another connection's lock before failing as busy (→ 503). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** How `SqliteStore.open` opens the file. */
export interface OpenOptions {
  readonly?: boolean;
  /** How long a write waits for another connection's lock before failing as unavailable. */
  busyTimeoutMs?: number;
}

interface ItemRow {
  itemId: string; title: string | null; categories: string; metadata: string; available: number; createdAt: number; updatedAt: number;
}
interface ModelRow {
  version: number; algorithm: string; params: string; metrics: string; trainedAt: number; feedbackWatermark: number;
}

// Aliased to FeedbackRecord's field names so rows need no per-row mapping when streaming millions.
const FEEDBACK_COLUMNS = `f.id AS id, u.external_id AS userId, i.external_id AS itemId, f.type AS type,
  f.value AS value, f.ts AS timestamp, f.received_at AS receivedAt
  FROM feedback f JOIN users u ON u.id = f.user_id JOIN items i ON i.id = f.item_id`;
const ITEM_COLUMNS = `external_id AS itemId, title, categories, metadata, available, created_at AS createdAt,
  updated_at AS updatedAt FROM items`;
const MODEL_COLUMNS = `version, algorithm, params, metrics, trained_at AS trainedAt,
  feedback_watermark AS feedbackWatermark FROM models`;

/**
 * The `Store` on one SQLite file (WAL, synchronous = FULL), created with its schema when missing.
 * One process writes at a time; close it after the engine that uses it.
 */
export class SqliteStore implements Store {
  static open(path: string, options: OpenOptions = {}): SqliteStore {
    try {
      return guard(() => SqliteStore.connect(path, options));
    } catch (err) {
      // Opening happens in commands, never in a request, so the path may be named.
      if (err instanceof StoreUnavailableError) throw new StoreUnavailableError(err.reason, `cannot open ${path}: ${err.message}`, { cause: err.cause });
      throw err;
    }
  }

  private static connect(path: string, options: OpenOptions): SqliteStore {
    const readonly = options.readonly ?? false;
    // `timeout` is SQLite's busy_timeout: writers queue behind a held lock instead of failing.
    const db = new Database(path, { readonly, fileMustExist: readonly, timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    try {
      if (readonly) {
        // A reader cannot migrate, so it must find the schema exactly as this build expects.
        const version = schemaVersion(db);
        if (version !== MIGRATIONS.length) {
          throw new IncompatibleSchemaError(
            `read-only open needs schema version ${MIGRATIONS.length}, found ${version}; open read-write once to migrate`,
          );
        }
      } else {
        // WAL lets readers run alongside the single writer. synchronous = FULL because a 2xx must
        // mean the row survives power loss or kill -9: under NORMAL, WAL skips the fsync at commit
        // and an OS crash can drop the last transactions.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        db.pragma('foreign_keys = ON');
        // Erasure must really erase: deleted rows are overwritten with zeros, not left in free pages.
        db.pragma('secure_delete = ON');
        migrate(db);
      }
      return new SqliteStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  readonly backend = 'sqlite';
  /** One process owns the file: nothing to replicate. */
  readonly replication = null;
  readonly maintenance: FileMaintenance = {
    checkpoint: async () => this.checkpoint(),
    backup: (path) => this.backup(path),
  };
  private readonly s: Statements;

  private constructor(private readonly db: Database.Database) {
    this.s = prepareStatements(db);
  }

  async upsertItems(items: ItemInput[], now = Date.now()): Promise<number> {
    return guard(() => write(this.db, () => {
      for (const item of items) {
        this.s.upsertItem.run({
          itemId: item.itemId,
          title: item.title ?? null,
          setTitle: item.title === undefined ? 0 : 1,
          categories: item.categories === undefined ? null : JSON.stringify(item.categories),
          metadata: item.metadata === undefined ? null : JSON.stringify(item.metadata),
          available: item.available === undefined ? null : Number(item.available),
          now,
        });
      }
      return items.length;
    }));
  }

  async getItem(itemId: string): Promise<ItemRecord | null> {
    return guard(() => {
      const row = this.s.getItem.get(itemId) as ItemRow | undefined;
      return row ? toItem(row) : null;
    });
  }

  async getItems(itemIds: string[]): Promise<ItemRecord[]> {
    return guard(() => {
      const found: ItemRecord[] = [];
      for (const itemId of itemIds) {
        const row = this.s.getItem.get(itemId) as ItemRow | undefined;
        if (row) found.push(toItem(row));
      }
      return found;
    });
  }

  async setItemAvailable(itemId: string, available: boolean, now = Date.now()): Promise<boolean> {
    return guard(() => this.s.setAvailable.run(Number(available), now, itemId).changes > 0);
  }

  async listItems(): Promise<ItemRecord[]> {
    return guard(() => (this.s.listItems.all() as ItemRow[]).map(toItem));
  }

  async addFeedback(events: FeedbackInput[], options: AddFeedbackOptions): Promise<AddFeedbackResult> {
    const receivedAt = options.receivedAt ?? Date.now();
    return guard(() => write(this.db, () => {
      const result: AddFeedbackResult = { accepted: 0, duplicates: 0, stored: [], createdItems: [] };
      for (const e of events) {
        let itemId = this.s.itemId.get(e.itemId) as number | undefined;
        if (itemId === undefined) {
          if (!options.createMissingItems) {
            throw new NotFoundError('itemId', e.itemId, `itemId '${e.itemId}' does not exist; feedback must reference a known item unless createMissingItems is set`);
          }
          itemId = Number(this.s.createBareItem.run(e.itemId, receivedAt, receivedAt).lastInsertRowid);
          result.createdItems.push(e.itemId);
        }
        const userId = this.s.seeUser.get(e.userId, e.timestamp, e.timestamp) as number;
        const stored = this.s.insertFeedback.run(userId, itemId, e.type, e.value, e.timestamp, receivedAt).changes > 0;
        result.stored.push(stored);
        if (stored) {
          this.s.countInteraction.run(userId);
          result.accepted++;
        } else {
          result.duplicates++;
        }
      }
      return result;
    }));
  }

  async importFeedback(): Promise<FeedbackImport> {
    const load = guard(() => new SqliteImport(this.db));
    return {
      add: async (events) => guard(() => load.add(events)),
      finish: async () => guard(() => load.finish()),
      abort: async () => guard(() => load.abort()),
    };
  }

  async userFeedback(userId: string): Promise<FeedbackRecord[]> {
    return guard(() => this.s.userFeedback.all(userId) as FeedbackRecord[]);
  }

  async userWatermark(userId: string): Promise<{ count: number; maxId: number }> {
    return guard(() => this.s.userWatermark.get(userId) as { count: number; maxId: number });
  }

  async feedbackSince(afterId: number, limit = -1): Promise<FeedbackRecord[]> {
    // SQLite treats a negative LIMIT as "no limit".
    return guard(() => this.s.feedbackSince.all(afterId, limit) as FeedbackRecord[]);
  }

  async decayedItemCounts(halfLifeMs: number, types: FeedbackType[], ratingSign: number): Promise<{ anchor: number; items: Array<{ itemId: string; weight: number }> }> {
    return guard(() => {
      const anchor = (this.s.maxTimestamp.get() as number | null) ?? 0;
      const items = this.s.decayedItemCounts.all({ anchor, halfLife: halfLifeMs, types: JSON.stringify(types), ratingSign: Math.sign(ratingSign) });
      return { anchor, items: items as Array<{ itemId: string; weight: number }> };
    });
  }

  async forEachFeedback(fn: (row: FeedbackRecord) => void): Promise<void> {
    guard(() => {
      for (const row of this.s.allFeedback.iterate()) fn(row as FeedbackRecord);
    });
  }

  async forEachUserHistory(fn: (userId: string, events: FeedbackRecord[]) => void, options: { includeFlagged?: boolean } = {}): Promise<void> {
    // Users' and items' external ids are read first into arrays by row id: joining them per row,
    // and SQLite building two strings per row, cost more than the scan itself (2.5× over 1M
    // rows). One read transaction, so all three reads see the same snapshot.
    guard(() => this.db.transaction(() => {
      const users: string[] = [];
      for (const [id, userId, flaggedAt] of this.s.userNames.iterate() as Iterable<[number, string, number | null]>) {
        if (flaggedAt === null || options.includeFlagged) users[id] = userId;
      }
      const items: string[] = [];
      for (const [id, itemId] of this.s.itemNames.iterate() as Iterable<[number, string]>) items[id] = itemId;
      const histories = userHistories(fn);
      type Row = [number, number, number, FeedbackType, number | null, number, number];
      for (const [id, user, item, type, value, timestamp, receivedAt] of this.s.historyRows.iterate() as Iterable<Row>) {
        const userId = users[user];
        if (userId !== undefined) histories.add({ id, userId, itemId: items[item], type, value, timestamp, receivedAt });
      }
      histories.end();
    })());
  }

  async itemFeedback(itemId: string): Promise<FeedbackRecord[]> {
    return guard(() => this.s.itemFeedback.all(itemId) as FeedbackRecord[]);
  }

  async flagUser(userId: string, reason: string, at: number): Promise<boolean> {
    return guard(() => this.s.flagUser.run(at, reason, userId).changes > 0);
  }

  async unflagUser(userId: string): Promise<boolean> {
    return guard(() => this.s.unflagUser.run(userId).changes > 0);
  }

  async flaggedUsers(): Promise<string[]> {
    return guard(() => this.s.flaggedUsers.all() as string[]);
  }

  async arrivalsSince(since: number): Promise<Array<{ minute: number; type: FeedbackType; count: number }>> {
    return guard(() => this.s.arrivals.all(since) as Array<{ minute: number; type: FeedbackType; count: number }>);
  }

  async countsByType(): Promise<Partial<Record<FeedbackType, number>>> {
    return guard(() => Object.fromEntries((this.s.countsByType.all() as Array<{ type: FeedbackType; count: number }>).map((r) => [r.type, r.count])));
  }

  async addEvaluation(kind: string, summary: Record<string, unknown>, at = Date.now()): Promise<void> {
    guard(() => this.s.addEvaluation.run(kind, at, JSON.stringify(summary)));
  }

  async evaluations(limit = 20): Promise<Evaluation[]> {
    return guard(() =>
      (this.s.evaluations.all(limit) as Array<{ kind: string; createdAt: number; summary: string }>).map((r) => ({ ...r, summary: JSON.parse(r.summary) })),
    );
  }

  async audit(action: string, subject: string | null, detail: Record<string, unknown> = {}, at = Date.now()): Promise<void> {
    guard(() => this.s.audit.run(at, action, subject, JSON.stringify(detail)));
  }

  async auditLog(limit = 100): Promise<AuditEntry[]> {
    return guard(() =>
      (this.s.auditLog.all(limit) as Array<Omit<AuditEntry, 'detail'> & { detail: string }>).map((r) => ({ ...r, detail: JSON.parse(r.detail) })),
    );
  }

  async pruneFeedback(before: number): Promise<number> {
    return guard(() => write(this.db, () => {
      const removed = this.s.pruneFeedback.run(before).changes;
      // Users left without any event are removed too: nothing about them remains to keep.
      this.s.pruneEmptyUsers.run();
      this.s.recountInteractions.run();
      return removed;
    }));
  }

  private async backup(path: string): Promise<void> {
    try {
      await this.db.backup(path);
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  async countFeedback(): Promise<number> {
    return guard(() => this.s.countFeedback.get() as number);
  }

  async maxFeedbackId(): Promise<number> {
    return guard(() => this.s.maxFeedbackId.get() as number);
  }

  async getUser(userId: string): Promise<UserRecord | null> {
    return guard(() => {
      const row = this.s.getUser.get(userId) as (Omit<UserRecord, 'flag'> & { flaggedAt: number | null; flagReason: string | null }) | undefined;
      if (!row) return null;
      const { flaggedAt, flagReason, ...user } = row;
      return { ...user, flag: flaggedAt === null ? null : { reason: flagReason ?? '', at: flaggedAt } };
    });
  }

  async deleteUser(userId: string): Promise<number> {
    return guard(() => write(this.db, () => {
      const id = this.s.userId.get(userId) as number | undefined;
      if (id === undefined) return 0;
      const removed = this.s.deleteUserFeedback.run(id).changes;
      this.s.deleteUser.run(id);
      return removed;
    }));
  }

  private checkpoint(): boolean {
    // TRUNCATE empties the WAL too, so no older copy of a page survives there.
    return guard(() => {
      if (this.db.memory) return true;
      const [{ busy }] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      return busy === 0;
    });
  }

  async usersWithFeedbackAfter(afterId: number): Promise<string[]> {
    return guard(() => this.s.usersAfter.all(afterId) as string[]);
  }

  async saveModel(meta: Omit<ModelMeta, 'version'>, bytes: Uint8Array, keep = 3): Promise<ModelMeta> {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RangeError(`keep must be an integer >= 1 so the model just saved survives pruning (got ${keep})`);
    }
    const blob = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return guard(() => write(this.db, () => {
      const { lastInsertRowid } = this.s.insertModel.run(meta.algorithm, JSON.stringify(meta.params), JSON.stringify(meta.metrics),
        meta.trainedAt, meta.feedbackWatermark, sha256(blob), blob);
      this.s.pruneModels.run(keep);
      return { version: Number(lastInsertRowid), ...meta };
    }));
  }

  async latestModels(): Promise<ModelMeta[]> {
    return guard(() => (this.s.latestModels.all() as ModelRow[]).map((r) => ({
      ...r, params: JSON.parse(r.params), metrics: JSON.parse(r.metrics),
    })));
  }

  async loadModelBytes(version: number): Promise<Uint8Array> {
    const row = guard(() => this.s.modelBytes.get(version) as { sha256: string; bytes: Buffer } | undefined);
    if (!row) throw new NotFoundError('version', String(version), `model version ${version} does not exist; only the newest few are kept`);
    if (sha256(row.bytes) !== row.sha256) throw new CorruptModelError(version);
    // A plain, exactly-sized copy: callers may hand `.buffer` to wasm, and must not see other bytes.
    return new Uint8Array(row.bytes);
  }

  location(): string | null {
    return this.db.memory ? null : this.db.name;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

type Statements = ReturnType<typeof prepareStatements>;

// Prepared once per connection: compiling SQL would otherwise dominate small per-request writes.
function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    // Flags/NULLs mark omitted fields so an update keeps the stored value; title needs a flag
    // because null is a legitimate value for it.
    upsertItem: p(`INSERT INTO items (external_id, title, categories, metadata, available, created_at, updated_at)
      VALUES (@itemId, @title, coalesce(@categories, '[]'), coalesce(@metadata, '{}'), coalesce(@available, 1), @now, @now)
      ON CONFLICT (external_id) DO UPDATE SET
        title = CASE WHEN @setTitle THEN excluded.title ELSE items.title END,
        categories = coalesce(@categories, items.categories), metadata = coalesce(@metadata, items.metadata),
        available = coalesce(@available, items.available), updated_at = excluded.updated_at`),
    getItem: p(`SELECT ${ITEM_COLUMNS} WHERE external_id = ?`),
    listItems: p(`SELECT ${ITEM_COLUMNS} ORDER BY id`),
    setAvailable: p('UPDATE items SET available = ?, updated_at = ? WHERE external_id = ?'),
    itemId: p('SELECT id FROM items WHERE external_id = ?').pluck(),
    createBareItem: p('INSERT INTO items (external_id, created_at, updated_at) VALUES (?, ?, ?)'),
    seeUser: p(`INSERT INTO users (external_id, first_seen, last_seen) VALUES (?, ?, ?)
      ON CONFLICT (external_id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen) RETURNING id`).pluck(),
    // Not INSERT OR IGNORE: that also silently drops NOT NULL/CHECK violations (e.g. a bad type)
    // and would count them as duplicates. Naming the dedup index ignores only true duplicates.
    insertFeedback: p(`INSERT INTO feedback (user_id, item_id, type, value, ts, received_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (user_id, item_id, type, ts) DO NOTHING`),
    countInteraction: p('UPDATE users SET interactions = interactions + 1 WHERE id = ?'),
    userFeedback: p(`SELECT ${FEEDBACK_COLUMNS} WHERE u.external_id = ? ORDER BY f.ts, f.id`),
    userWatermark: p(`SELECT count(f.id) AS count, coalesce(max(f.id), 0) AS maxId FROM users u JOIN feedback f ON f.user_id = u.id
      WHERE u.external_id = ?`),
    feedbackSince: p(`SELECT ${FEEDBACK_COLUMNS} WHERE f.id > ? ORDER BY f.id LIMIT ?`),
    allFeedback: p(`SELECT ${FEEDBACK_COLUMNS} ORDER BY f.id`),
    maxTimestamp: p('SELECT max(ts) FROM feedback').pluck(),
    // NOT INDEXED: one sequential scan and a sort beat walking the item index with a row lookup per event (2× here).
    decayedItemCounts: p(`SELECT i.external_id AS itemId, w.weight AS weight FROM (
        SELECT item_id, sum(CASE WHEN @halfLife > 0 THEN pow(2, (ts - @anchor) * 1.0 / @halfLife) ELSE 1 END) AS weight
        FROM feedback NOT INDEXED
        WHERE type IN (SELECT value FROM json_each(@types)) OR (type = 'rating' AND sign(value) = @ratingSign AND @ratingSign <> 0)
        GROUP BY item_id
      ) w JOIN items i ON i.id = w.item_id`),
    countFeedback: p('SELECT count(*) FROM feedback').pluck(),
    maxFeedbackId: p('SELECT coalesce(max(id), 0) FROM feedback').pluck(),
    getUser: p(`SELECT external_id AS userId, first_seen AS firstSeen, last_seen AS lastSeen, interactions,
      flagged_at AS flaggedAt, flag_reason AS flagReason FROM users WHERE external_id = ?`),
    // Rows as arrays (raw): no per-row object with named keys for the millions a training scan reads.
    userNames: p('SELECT id, external_id, flagged_at FROM users').raw(),
    itemNames: p('SELECT id, external_id FROM items').raw(),
    historyRows: p('SELECT id, user_id, item_id, type, value, ts, received_at FROM feedback ORDER BY user_id, ts, id').raw(),
    itemFeedback: p(`SELECT ${FEEDBACK_COLUMNS} WHERE i.external_id = ? ORDER BY f.ts, f.id`),
    flagUser: p('UPDATE users SET flagged_at = ?, flag_reason = ? WHERE external_id = ?'),
    unflagUser: p('UPDATE users SET flagged_at = NULL, flag_reason = NULL WHERE external_id = ?'),
    flaggedUsers: p('SELECT external_id FROM users WHERE flagged_at IS NOT NULL ORDER BY external_id').pluck(),
    arrivals: p(`SELECT (received_at / 60000) * 60000 AS minute, type, count(*) AS count FROM feedback
      WHERE received_at >= ? GROUP BY minute, type ORDER BY minute`),
    countsByType: p('SELECT type, count(*) AS count FROM feedback GROUP BY type'),
    addEvaluation: p('INSERT INTO evaluations (kind, created_at, summary) VALUES (?, ?, ?)'),
    evaluations: p('SELECT kind, created_at AS createdAt, summary FROM evaluations ORDER BY id DESC LIMIT ?'),
    audit: p('INSERT INTO audit_log (at, action, subject, detail) VALUES (?, ?, ?, ?)'),
    auditLog: p('SELECT at, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?'),
    pruneFeedback: p('DELETE FROM feedback WHERE received_at < ?'),
    pruneEmptyUsers: p('DELETE FROM users WHERE id NOT IN (SELECT DISTINCT user_id FROM feedback)'),
    recountInteractions: p('UPDATE users SET interactions = (SELECT count(*) FROM feedback f WHERE f.user_id = users.id)'),
    userId: p('SELECT id FROM users WHERE external_id = ?').pluck(),
    deleteUserFeedback: p('DELETE FROM feedback WHERE user_id = ?'),
    deleteUser: p('DELETE FROM users WHERE id = ?'),
    usersAfter: p(`SELECT DISTINCT u.external_id FROM feedback f JOIN users u ON u.id = f.user_id
      WHERE f.id > ? ORDER BY u.external_id`).pluck(),
    insertModel: p(`INSERT INTO models (algorithm, params, metrics, trained_at, feedback_watermark, sha256, bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    pruneModels: p('DELETE FROM models WHERE version NOT IN (SELECT version FROM models ORDER BY version DESC LIMIT ?)'),
    latestModels: p(`SELECT ${MODEL_COLUMNS} ORDER BY version DESC`),
    modelBytes: p('SELECT sha256, bytes FROM models WHERE version = ?'),
  };
}

/**
 * One write transaction, begun IMMEDIATE: the write lock is taken up front, so the busy timeout
 * applies. A deferred transaction that reads first and then writes is refused at once with
 * SQLITE_BUSY while another connection (an import, a backup) holds the lock — the busy handler
 * is never consulted for that upgrade — and concurrent writers would fail instead of queueing.
 */
function write<T>(db: Database.Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translateSqliteError(err);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toItem(row: ItemRow): ItemRecord {
  return { ...row, categories: JSON.parse(row.categories), metadata: JSON.parse(row.metadata), available: row.available === 1 };
}

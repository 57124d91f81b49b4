/**
 * The `Store` on PostgreSQL: any number of liverec servers share one database. Same semantics
 * as SqliteStore method by method (the shared contract suite in test/store runs both).
 *
 * Why the `postgres` driver (porsager) rather than `pg`: it pipelines queries on a connection
 * (a transaction's statements go out without waiting for each answer), prepares statements per
 * connection by default, streams COPY natively (`pg` needs pg-copy-streams) and offers
 * `sql.listen`, which re-opens and re-LISTENs after a dropped connection, plus server-side
 * cursors for streaming the log. COPY is not used: a feedback array goes in as one set-based
 * `unnest` statement that also dedupes, upserts users and creates items (5000 events in about
 * 250 ms here, most of it index, foreign-key and trigger work that COPY would not save); COPY
 * would add a staging table and a second statement.
 */
import { createHash } from 'node:crypto';
import { batchedImport } from './batched-import.ts';
import { IncompatibleSchemaError, StoreUnavailableError } from './errors.ts';
import * as catalog from './postgres-catalog.ts';
import { connectPostgres, type PgConnectOptions, type PgSql } from './postgres-connect.ts';
import { translatePostgresError } from './postgres-errors.ts';
import * as log from './postgres-feedback.ts';
import { migratePostgres, PG_MIGRATIONS, postgresSchemaVersion } from './postgres-migrations.ts';
import * as models from './postgres-models.ts';
import { PgReplication, recordChange } from './postgres-replication.ts';
import type {
  AddFeedbackOptions, AddFeedbackResult, FeedbackImport, AuditEntry, Evaluation, FeedbackInput, FeedbackRecord, FeedbackType, ItemInput, ItemRecord,
  ModelMeta, Store, UserRecord,
} from './types.ts';

export class PostgresStore implements Store {
  /** Connects, migrates (read-write) or checks the schema version (read-only), and returns the store. */
  static async open(url: string, options: PgConnectOptions = {}): Promise<PostgresStore> {
    const sql = connectPostgres(url, options);
    try {
      if (options.readonly) {
        // A reader cannot migrate, so it must find the schema exactly as this build expects.
        const version = await postgresSchemaVersion(sql);
        if (version !== PG_MIGRATIONS.length) {
          throw new IncompatibleSchemaError(
            `read-only open needs schema version ${PG_MIGRATIONS.length}, found ${version}; open read-write once to migrate`,
          );
        }
      } else {
        await migratePostgres(sql);
      }
    } catch (err) {
      await sql.end({ timeout: 0 }).catch(() => undefined);
      const translated = translatePostgresError(err);
      // Opening happens in commands, never in a request, so the location may be named (without its password).
      if (translated instanceof StoreUnavailableError) {
        throw new StoreUnavailableError(translated.reason, `cannot open ${redact(url)}: ${translated.message}`, { cause: translated.cause });
      }
      throw translated;
    }
    return new PostgresStore(sql, url);
  }

  readonly backend = 'postgres';
  /** No file to checkpoint or copy: use pg_dump / pg_basebackup. */
  readonly maintenance = null;
  readonly replication: PgReplication;

  private constructor(
    private readonly sql: PgSql,
    private readonly url: string,
  ) {
    this.replication = new PgReplication(sql, guard);
  }

  upsertItems(items: ItemInput[], now = Date.now()): Promise<number> {
    return guard(() => catalog.upsertItems(this.sql, items, now));
  }

  getItem(itemId: string): Promise<ItemRecord | null> {
    if (!storable(itemId)) return Promise.resolve(null);
    return guard(() => catalog.getItem(this.sql, itemId));
  }

  getItems(itemIds: string[]): Promise<ItemRecord[]> {
    return guard(() => catalog.getItems(this.sql, itemIds.filter(storable)));
  }

  setItemAvailable(itemId: string, available: boolean, now = Date.now()): Promise<boolean> {
    if (!storable(itemId)) return Promise.resolve(false);
    return guard(() => catalog.setItemAvailable(this.sql, itemId, available, now));
  }

  listItems(): Promise<ItemRecord[]> {
    return guard(() => catalog.listItems(this.sql));
  }

  addFeedback(events: FeedbackInput[], options: AddFeedbackOptions): Promise<AddFeedbackResult> {
    return guard(() => log.addFeedback(this.sql, events, options));
  }

  async importFeedback(): Promise<FeedbackImport> {
    return batchedImport(this);
  }

  userFeedback(userId: string): Promise<FeedbackRecord[]> {
    if (!storable(userId)) return Promise.resolve([]);
    return guard(() => log.userFeedback(this.sql, userId));
  }

  userWatermark(userId: string): Promise<{ count: number; maxId: number }> {
    if (!storable(userId)) return Promise.resolve({ count: 0, maxId: 0 });
    return guard(() => log.userWatermark(this.sql, userId));
  }

  feedbackSince(afterId: number, limit?: number): Promise<FeedbackRecord[]> {
    return guard(() => log.feedbackSince(this.sql, afterId, limit));
  }

  decayedItemCounts(halfLifeMs: number, types: FeedbackType[], ratingSign: number): Promise<{ anchor: number; items: Array<{ itemId: string; weight: number }> }> {
    return guard(() => log.decayedItemCounts(this.sql, halfLifeMs, types, ratingSign));
  }

  forEachFeedback(fn: (row: FeedbackRecord) => void): Promise<void> {
    return guard(() => log.forEachFeedback(this.sql, fn));
  }

  forEachUserHistory(fn: (userId: string, events: FeedbackRecord[]) => void, options: { includeFlagged?: boolean } = {}): Promise<void> {
    return guard(() => log.forEachUserHistory(this.sql, fn, options.includeFlagged ?? false));
  }

  itemFeedback(itemId: string): Promise<FeedbackRecord[]> {
    if (!storable(itemId)) return Promise.resolve([]);
    return guard(() => log.itemFeedback(this.sql, itemId));
  }

  arrivalsSince(since: number): Promise<Array<{ minute: number; type: FeedbackType; count: number }>> {
    return guard(() => log.arrivalsSince(this.sql, since));
  }

  countsByType(): Promise<Partial<Record<FeedbackType, number>>> {
    return guard(() => log.countsByType(this.sql));
  }

  countFeedback(): Promise<number> {
    return guard(() => log.countFeedback(this.sql));
  }

  maxFeedbackId(): Promise<number> {
    return guard(() => log.maxFeedbackId(this.sql));
  }

  usersWithFeedbackAfter(afterId: number): Promise<string[]> {
    return guard(() => log.usersWithFeedbackAfter(this.sql, afterId));
  }

  pruneFeedback(before: number): Promise<number> {
    return guard(() => log.pruneFeedback(this.sql, before));
  }

  async getUser(userId: string): Promise<UserRecord | null> {
    if (!storable(userId)) return null;
    return guard(async () => {
      const [row] = await this.sql<Array<Omit<UserRecord, 'flag'> & { flaggedAt: number | null; flagReason: string | null }>>`
        SELECT external_id AS "userId", first_seen AS "firstSeen", last_seen AS "lastSeen", interactions,
          flagged_at AS "flaggedAt", flag_reason AS "flagReason" FROM users WHERE external_id = ${userId}`;
      if (!row) return null;
      const { flaggedAt, flagReason, ...user } = row;
      return { ...user, flag: flaggedAt === null ? null : { reason: flagReason ?? '', at: flaggedAt } };
    });
  }

  async flagUser(userId: string, reason: string, at: number): Promise<boolean> {
    return this.setFlag(userId, reason, at, at);
  }

  async unflagUser(userId: string): Promise<boolean> {
    return this.setFlag(userId, null, null, Date.now());
  }

  async flaggedUsers(): Promise<string[]> {
    return guard(async () => {
      const rows = await this.sql<Array<{ id: string }>>`
        SELECT external_id COLLATE "C" AS id FROM users WHERE flagged_at IS NOT NULL ORDER BY 1`;
      return rows.map((r) => r.id);
    });
  }

  /**
   * Feedback and user row go in one transaction; the change log records only sha256 of the id,
   * while the notice (never stored) carries the id itself so other servers drop the user at once.
   */
  async deleteUser(userId: string): Promise<number> {
    if (!storable(userId)) return 0;
    return guard(() => this.sql.begin(async (tx) => {
      // Locked first: a concurrent post for this user commits before (and is erased too) or waits until after.
      const [user] = await tx<Array<{ id: number }>>`SELECT id FROM users WHERE external_id = ${userId} FOR UPDATE`;
      if (!user) return 0;
      const removed = await tx`DELETE FROM feedback WHERE user_id = ${user.id}`;
      await tx`DELETE FROM users WHERE id = ${user.id}`;
      await recordChange(tx, 'erase', [createHash('sha256').update(userId).digest('hex')], Date.now(), userId);
      return removed.count;
    }));
  }

  saveModel(meta: Omit<ModelMeta, 'version'>, bytes: Uint8Array, keep = 3): Promise<ModelMeta> {
    return guard(() => models.saveModel(this.sql, meta, bytes, keep));
  }

  latestModels(): Promise<ModelMeta[]> {
    return guard(() => models.latestModels(this.sql));
  }

  loadModelBytes(version: number): Promise<Uint8Array> {
    return guard(() => models.loadModelBytes(this.sql, version));
  }

  async addEvaluation(kind: string, summary: Record<string, unknown>, at = Date.now()): Promise<void> {
    await guard(() => this.sql`INSERT INTO evaluations (kind, created_at, summary) VALUES (${kind}, ${at}, ${JSON.stringify(summary)}::text::json)`);
  }

  async evaluations(limit = 20): Promise<Evaluation[]> {
    return guard(() => this.sql<Evaluation[]>`
      SELECT kind, created_at AS "createdAt", summary FROM evaluations ORDER BY id DESC LIMIT ${limit}`);
  }

  async audit(action: string, subject: string | null, detail: Record<string, unknown> = {}, at = Date.now()): Promise<void> {
    await guard(() => this.sql`INSERT INTO audit_log (at, action, subject, detail) VALUES (${at}, ${action}, ${subject}, ${JSON.stringify(detail)}::text::json)`);
  }

  async auditLog(limit = 100): Promise<AuditEntry[]> {
    return guard(() => this.sql<AuditEntry[]>`SELECT at, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ${limit}`);
  }

  location(): string {
    return this.url;
  }

  /** Releases held locks, then ends the pool (and its LISTEN connection), waiting up to 5 s for queries in flight. */
  async close(): Promise<void> {
    await this.replication.releaseAll();
    await this.sql.end({ timeout: 5 });
  }

  private setFlag(userId: string, reason: string | null, at: number | null, now: number): Promise<boolean> {
    if (!storable(userId)) return Promise.resolve(false);
    return guard(() => this.sql.begin(async (tx) => {
      const updated = await tx`UPDATE users SET flagged_at = ${at}::bigint, flag_reason = ${reason}::text WHERE external_id = ${userId}`;
      if (updated.count === 0) return false;
      await recordChange(tx, 'flags', [], now);
      return true;
    }));
  }
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translatePostgresError(err);
  }
}

/**
 * PostgreSQL text cannot hold U+0000, so no stored id contains it: a lookup by such an id (ids
 * that are only looked up are not screened for control characters) finds nothing, as on SQLite,
 * instead of failing.
 */
function storable(id: string): boolean {
  return !id.includes('\u0000');
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the PostgreSQL URL';
  }
}

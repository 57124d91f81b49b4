import { LIVEREC_LOCK_SPACE } from './postgres-migrations.ts';
import type { PgSql, PgTx } from './postgres-connect.ts';
import type { Change, ChangeKind, Replication } from './types.ts';

/**
 * What servers sharing one database tell each other. Every change row is written in the
 * transaction that made the change, under a transaction-level advisory lock taken as that
 * transaction's last lock: change ids therefore commit in id order, and a reader that has seen
 * change n will never later find a change below n (a plain sequence hands out ids at insert time,
 * and a slower transaction could commit a lower id after a reader moved past it).
 * A NOTIFY on `liverec_changes` (delivered at commit, never stored) wakes the others at once.
 */
export const CHANGES_CHANNEL = 'liverec_changes';

/** SQL calling the change-log lock (the second half of the key: 1 is the migration lock). */
export const CHANGE_LOCK = `pg_advisory_xact_lock(${LIVEREC_LOCK_SPACE}, 2)`;

/** First half of the key of named locks (`tryLock`), apart from the internal locks above. */
const NAMED_LOCK_SPACE = LIVEREC_LOCK_SPACE + 1;

/** NOTIFY payloads must stay below 8000 bytes: an erasure notice drops the id beyond this. */
const MAX_PAYLOAD_BYTES = 7000;

const KINDS: ReadonlySet<string> = new Set<ChangeKind>(['items', 'flags', 'erase', 'model']);

/** The payload of a change notice: the kind, and for an erasure the raw user id (not stored anywhere). */
export function noticePayload(kind: ChangeKind, userId?: string): string {
  const withId = JSON.stringify(userId === undefined ? { kind } : { kind, userId });
  return Buffer.byteLength(withId) <= MAX_PAYLOAD_BYTES ? withId : JSON.stringify({ kind });
}

/**
 * Records a change as the last statement of a transaction (the caller's other writes are done,
 * so the change lock is the last lock it takes) and queues the notice for commit.
 */
export async function recordChange(tx: PgTx, kind: ChangeKind, subject: string[], at: number, userId?: string): Promise<void> {
  await tx`
    WITH change AS (
      INSERT INTO changes (kind, subject, at)
      SELECT ${kind}, ${subject}::text[], ${at} FROM (SELECT ${tx.unsafe(CHANGE_LOCK)}) l
      RETURNING id
    )
    SELECT pg_notify(${CHANGES_CHANNEL}, ${noticePayload(kind, userId)}) FROM change`;
}

export class PgReplication implements Replication {
  /** Release functions of the locks this store holds, run by close(). */
  private readonly held = new Set<() => Promise<void>>();

  constructor(
    private readonly sql: PgSql,
    private readonly guard: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  changesSince(afterId: number, limit?: number): Promise<Change[]> {
    return this.guard(() => this.sql<Change[]>`
      SELECT id, kind, subject, at FROM changes WHERE id > ${afterId} ORDER BY id LIMIT ${limit ?? null}::bigint`);
  }

  lastChangeId(): Promise<number> {
    return this.guard(async () => {
      const [row] = await this.sql<Array<{ id: number }>>`SELECT coalesce(max(id), 0) AS id FROM changes`;
      return row.id;
    });
  }

  pruneChanges(before: number): Promise<number> {
    return this.guard(async () => (await this.sql`DELETE FROM changes WHERE at < ${before}`).count);
  }

  /**
   * LISTEN on a connection of its own, which the driver re-opens (and re-LISTENs) after it
   * drops; notices sent meanwhile are lost, hence the caller's polling.
   */
  subscribe(fn: (kind: ChangeKind, userId?: string) => void): Promise<() => Promise<void>> {
    return this.guard(async () => {
      const { unlisten } = await this.sql.listen(CHANGES_CHANNEL, (payload) => {
        let notice: { kind?: unknown; userId?: unknown };
        try {
          notice = JSON.parse(payload) as typeof notice;
        } catch {
          return;
        }
        if (typeof notice.kind !== 'string' || !KINDS.has(notice.kind)) return;
        try {
          fn(notice.kind as ChangeKind, typeof notice.userId === 'string' ? notice.userId : undefined);
        } catch {
          // A wake-up only: a subscriber that throws must not break the driver's connection; its poll still runs.
        }
      });
      return () => this.guard(unlisten);
    });
  }

  /**
   * A session-level advisory lock on a connection reserved from the pool for as long as it is
   * held (so it stays with one session); released by the returned function, by close(), or by
   * the server when the connection dies.
   */
  tryLock(name: string): Promise<(() => Promise<void>) | null> {
    return this.guard(async () => {
      const conn = await this.sql.reserve();
      let locked = false;
      try {
        const [row] = await conn<Array<{ locked: boolean }>>`
          SELECT pg_try_advisory_lock(${NAMED_LOCK_SPACE}::int, hashtext(${name})) AS locked`;
        locked = row.locked;
      } finally {
        if (!locked) conn.release();
      }
      if (!locked) return null;
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        this.held.delete(release);
        try {
          await conn`SELECT pg_advisory_unlock(${NAMED_LOCK_SPACE}::int, hashtext(${name}))`;
        } catch {
          // The connection is gone, and the lock with it.
        } finally {
          conn.release();
        }
      };
      this.held.add(release);
      return release;
    });
  }

  /** Releases every lock still held (the store is closing). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((release) => release()));
  }
}

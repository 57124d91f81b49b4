import { createHash } from 'node:crypto';
import type { Change, Replication, Store } from '../store/types.ts';
import type { Ingest } from './ingest.ts';
import type { LivingProfiles } from './living.ts';
import type { Privacy } from './privacy.ts';
import type { Retraining } from './retraining.ts';
import type { Warnings } from './warnings.ts';

/** How often the change log is read when no notification arrives (notifications are lost while a connection is down). */
export const POLL_MS = 1000;

/**
 * Changes older than this are deleted (by whichever server gets there first, every PRUNE_MS). A
 * server that could not read the log for longer may have missed some: it says so on /health.
 */
export const CHANGE_RETENTION_MS = 3_600_000;
const PRUNE_MS = 300_000;

/**
 * Keeps a server in step with the others on a shared store: what they changed — catalog items,
 * quarantines, erasures, new model versions — is applied here too. Changes are read from the
 * store's change log (written in the same transaction as the change), on a notification or at
 * least every POLL_MS; a user's own feedback needs no notice, since every read checks the user's
 * history against the log (LivingProfiles.catchUp). State owned: the last change applied.
 */
export class ReplicaSync {
  private lastChange = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private pruner: NodeJS.Timeout | null = null;
  /** When the log was last read to its end: the measure of how far behind this server could be. */
  private caughtUpAt = Date.now();
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  private constructor(
    private readonly store: Store,
    private readonly replication: Replication,
    private readonly ingest: Ingest,
    private readonly profiles: LivingProfiles,
    private readonly privacy: Privacy,
    private readonly retraining: Retraining,
    private readonly warnings: Warnings,
  ) {}

  /** Starts following the store's changes from now (what is stored already was read at open). */
  static async start(
    store: Store, ingest: Ingest, profiles: LivingProfiles, privacy: Privacy, retraining: Retraining, warnings: Warnings,
  ): Promise<ReplicaSync> {
    const sync = new ReplicaSync(store, store.replication!, ingest, profiles, privacy, retraining, warnings);
    sync.lastChange = await sync.replication.lastChangeId();
    sync.unsubscribe = await sync.replication.subscribe((kind, userId) => {
      // An erasure's notice carries the id (never stored): the user goes at once, before the log is read.
      if (kind === 'erase' && userId !== undefined) privacy.forgetErased(userId);
      sync.poll();
    });
    sync.timer = setInterval(() => sync.poll(), POLL_MS);
    sync.timer.unref();
    sync.pruner = setInterval(() => sync.prune(), PRUNE_MS);
    sync.pruner.unref();
    return sync;
  }

  /** Reads and applies the changes since the last one; concurrent calls coalesce into one more pass. */
  poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((error: Error) => this.warnings.add(`following other servers' changes failed (${error.message}); retrying`))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          void this.poll();
        }
      });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pruner) clearInterval(this.pruner);
    await this.running;
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Deletes changes every server has long applied; a failure only delays it to the next round. */
  prune(): Promise<void> {
    return this.replication.pruneChanges(Date.now() - CHANGE_RETENTION_MS).then(
      () => undefined,
      (error: Error) => this.warnings.add(`pruning the change log failed (${error.message}); retrying later`),
    );
  }

  private async drain(): Promise<void> {
    const readingFrom = Date.now();
    if (readingFrom - this.caughtUpAt > CHANGE_RETENTION_MS) {
      this.warnings.add('this server could not read the change log for over an hour and may have missed catalog changes; restart it');
    }
    for (;;) {
      const changes = await this.replication.changesSince(this.lastChange, 500);
      if (changes.length === 0) {
        this.caughtUpAt = readingFrom;
        return;
      }
      await this.apply(changes);
      this.lastChange = changes[changes.length - 1].id;
    }
  }

  private async apply(changes: Change[]): Promise<void> {
    const items = new Set<string>();
    let flags = false;
    let model = false;
    const erased = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'items') for (const itemId of change.subject) items.add(itemId);
      else if (change.kind === 'flags') flags = true;
      else if (change.kind === 'model') model = true;
      else if (change.kind === 'erase') for (const hash of change.subject) erased.add(hash);
    }
    if (items.size > 0) this.ingest.apply(await this.store.getItems([...items]));
    if (flags) await this.profiles.reloadFlags();
    // Erasures whose notice was lost: find the users by the hash the log keeps.
    if (erased.size > 0) for (const userId of this.profiles.knownUsers()) if (erased.has(sha256(userId))) this.privacy.forgetErased(userId);
    if (model) void this.retraining.adoptLatest().catch((error: Error) => this.warnings.add(`loading the model another server trained failed: ${error.message}`));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

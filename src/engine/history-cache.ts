import type { FeedbackInput, Store } from '../store/types.ts';

export type Event = Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'> & {
  /** When the server stored it (drift compares before/after the last retrain by arrival). */
  receivedAt: number;
};

/** Where a cached history stands against the log: its rows and the highest feedback id among them (-1: not known). */
export interface Watermark {
  count: number;
  maxId: number;
}

interface Entry extends Watermark {
  events: Event[];
}

/**
 * Recently active users' event histories, kept in memory so a feedback's fold-in does not
 * re-read the user's whole history from the database. The store stays the source of truth:
 * a miss reads it, and anything that rewrites history (erasure, imports, another server's
 * writes to a shared store) evicts the user. Least-recently-used users are dropped once
 * `maxEvents` events are cached in total.
 */
export class HistoryCache {
  private readonly users = new Map<string, Entry>();
  /** Reads in flight, shared by concurrent requests for the same user. */
  private readonly loading = new Map<string, Promise<Entry>>();
  private events = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEvents = 2_000_000,
  ) {}

  /** The user's events (oldest first), from memory or the store. */
  async get(userId: string): Promise<Event[]> {
    return (await this.entry(userId)).events;
  }

  /** The users cached now. */
  cachedUsers(): string[] {
    return [...this.users.keys()];
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  /** The cached history's watermark, or null when the user is not cached (nor being read). */
  async watermark(userId: string): Promise<Watermark | null> {
    const pending = this.loading.get(userId);
    if (pending) await pending.catch(() => undefined);
    const entry = this.users.get(userId);
    return entry ? { count: entry.count, maxId: entry.maxId } : null;
  }

  /**
   * Records newly stored events for a cached user (an uncached one is read in full later);
   * `mark`, when known, is the log's watermark for the user including them.
   */
  append(userId: string, events: Event[], mark?: Watermark): void {
    const entry = this.users.get(userId);
    if (!entry) return;
    entry.events.push(...events);
    entry.count += events.length;
    entry.maxId = mark?.maxId ?? -1;
    this.events += events.length;
    this.trim();
  }

  clear(): void {
    this.users.clear();
    this.loading.clear();
    this.events = 0;
  }

  evict(userId: string): void {
    // A read in flight may predate what caused the eviction: it must not be cached either.
    this.loading.delete(userId);
    const entry = this.users.get(userId);
    if (!entry) return;
    this.events -= entry.events.length;
    this.users.delete(userId);
  }

  private async entry(userId: string): Promise<Entry> {
    const cached = this.users.get(userId);
    if (cached) {
      // Re-insert to mark as most recently used.
      this.users.delete(userId);
      this.users.set(userId, cached);
      return cached;
    }
    let pending = this.loading.get(userId);
    if (!pending) {
      const read: Promise<Entry> = this.read(userId).then((entry) => {
        // Cached only if still wanted: an eviction while reading may mean the rows changed under it.
        if (this.loading.get(userId) === read) {
          this.loading.delete(userId);
          if (!this.users.has(userId)) {
            this.users.set(userId, entry);
            this.events += entry.events.length;
            this.trim();
          }
        }
        return entry;
      });
      read.catch(() => {
        if (this.loading.get(userId) === read) this.loading.delete(userId);
      });
      this.loading.set(userId, read);
      pending = read;
    }
    return pending;
  }

  private async read(userId: string): Promise<Entry> {
    const rows = await this.store.userFeedback(userId);
    let maxId = 0;
    const events = rows.map(({ id, itemId, type, value, timestamp, receivedAt }) => {
      if (id > maxId) maxId = id;
      return { itemId, type, value, timestamp, receivedAt };
    });
    return { events, count: events.length, maxId };
  }

  private trim(): void {
    for (const [userId] of this.users) {
      if (this.events <= this.maxEvents || this.users.size === 1) break;
      this.evict(userId);
    }
  }
}

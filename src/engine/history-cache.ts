import type { FeedbackInput, Store } from '../store/types.ts';

export type Event = Pick<FeedbackInput, 'itemId' | 'type' | 'value' | 'timestamp'> & {
  /** When the server stored it (drift compares before/after the last retrain by arrival). */
  receivedAt: number;
};

/**
 * Recently active users' event histories, kept in memory so a feedback's fold-in does not
 * re-read the user's whole history from the database. The store stays the source of truth:
 * a miss reads it, and anything that rewrites history (erasure, imports) evicts the user.
 * Least-recently-used users are dropped once `maxEvents` events are cached in total.
 */
export class HistoryCache {
  private readonly users = new Map<string, Event[]>();
  private events = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEvents = 2_000_000,
  ) {}

  /** The user's events (oldest first), from memory or the store. */
  get(userId: string): Event[] {
    let history = this.users.get(userId);
    if (history) {
      // Re-insert to mark as most recently used.
      this.users.delete(userId);
      this.users.set(userId, history);
      return history;
    }
    history = this.store.userFeedback(userId).map(({ itemId, type, value, timestamp, receivedAt }) => ({ itemId, type, value, timestamp, receivedAt }));
    this.users.set(userId, history);
    this.events += history.length;
    this.trim();
    return history;
  }

  /** Records a newly stored event for a cached user (an uncached one is read in full later). */
  append(userId: string, event: Event): void {
    const history = this.users.get(userId);
    if (!history) return;
    history.push(event);
    this.events++;
    this.trim();
  }

  clear(): void {
    this.users.clear();
    this.events = 0;
  }

  evict(userId: string): void {
    const history = this.users.get(userId);
    if (!history) return;
    this.events -= history.length;
    this.users.delete(userId);
  }

  private trim(): void {
    for (const [userId] of this.users) {
      if (this.events <= this.maxEvents || this.users.size === 1) break;
      this.evict(userId);
    }
  }
}

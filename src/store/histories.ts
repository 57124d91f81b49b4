import type { FeedbackRecord } from './types.ts';

/**
 * Turns feedback rows ordered by user into one call of `fn` per user with that user's rows, for
 * `forEachUserHistory` on every backend: `add` each row as it streams in, then `end` once.
 */
export function userHistories(fn: (userId: string, events: FeedbackRecord[]) => void): { add(row: FeedbackRecord): void; end(): void } {
  let userId: string | null = null;
  let events: FeedbackRecord[] = [];
  return {
    add(row) {
      if (row.userId !== userId) {
        if (userId !== null) fn(userId, events);
        userId = row.userId;
        events = [];
      }
      events.push(row);
    },
    end() {
      if (userId !== null) fn(userId, events);
    },
  };
}

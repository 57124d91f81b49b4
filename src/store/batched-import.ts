import type { FeedbackImport, FeedbackLog } from './types.ts';

/**
 * The plain bulk load: every `add` is one `addFeedback` call (one transaction, durable when it
 * returns). PostgreSQL's addFeedback is already one set-based statement per batch, so nothing
 * is gained there by staging.
 */
export function batchedImport(log: Pick<FeedbackLog, 'addFeedback'>): FeedbackImport {
  const tally = { accepted: 0, duplicates: 0 };
  return {
    async add(events) {
      if (events.length === 0) return;
      const result = await log.addFeedback(events, { createMissingItems: true });
      tally.accepted += result.accepted;
      tally.duplicates += result.duplicates;
    },
    async finish() {
      return { ...tally };
    },
    async abort() {},
  };
}

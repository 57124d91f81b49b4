import type { FeedbackInput, FeedbackType } from '../store/types.ts';
import { FEEDBACK_TYPES } from '../store/types.ts';

const DAY_MS = 86_400_000;
const TYPES = new Set<string>(FEEDBACK_TYPES);

/**
 * The common case of `feedbackEvent(now)` (schemas.ts) checked by hand, for bulk imports where
 * zod's per-row cost dominates: returns exactly what the schema would when the row is certainly
 * valid, and undefined when it cannot tell cheaply (a bad row, an ISO timestamp, an id beyond
 * printable ASCII) — the caller then runs the schema, which decides and words the rule. It may
 * only ever accept less than the schema, never more (test/server/feedback-check.test.ts).
 */
export function plainFeedback(row: { userId?: unknown; itemId?: unknown; type?: unknown; value?: unknown; timestamp?: unknown }, now: number): FeedbackInput | undefined {
  const { userId, itemId, type, value = null, timestamp = now } = row;
  if (!plainId(userId) || !plainId(itemId) || typeof type !== 'string' || !TYPES.has(type)) return undefined;
  if (value !== null && !(typeof value === 'number' && Number.isFinite(value))) return undefined;
  if (type === 'rating' && (value === null || value < 0.5 || value > 5)) return undefined;
  if (!(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0 && (timestamp as number) <= now + DAY_MS)) return undefined;
  return { userId, itemId, type: type as FeedbackType, value, timestamp: timestamp as number };
}

/** 1–256 printable ASCII characters: a subset of what `newId` accepts, checked without a regex. */
function plainId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) return false;
  for (let c = 0; c < id.length; c++) {
    const code = id.charCodeAt(c);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

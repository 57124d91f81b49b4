import { z } from 'zod';
import type { FeedbackInput } from '../store/types.ts';
import { FEEDBACK_TYPES } from '../store/types.ts';

/**
 * Request schemas. Messages are rule predicates; validate.ts prefixes the field name.
 * Objects strip unknown keys rather than reject them, so older servers accept newer clients.
 */

const ID_RULE = 'must be 1–256 characters';
const N_RULE = 'must be an integer from 1 to 100';
const MAX_BATCH = 10_000;
const BATCH_RULE = `must be an array of 1–${MAX_BATCH} entries`;
const DAY_MS = 86_400_000;
const TIMESTAMP_RULE = 'must be integer epoch milliseconds or an ISO-8601 date-time with a timezone';

export const id = z.string().min(1, ID_RULE).max(256, ID_RULE);

/** `n` as a query parameter; absent means 10. */
export const nQuery = z
  .string()
  .regex(/^\d{1,3}$/, N_RULE)
  .transform(Number)
  .pipe(z.number().min(1, N_RULE).max(100, N_RULE))
  .optional()
  .transform((n) => n ?? 10);

/** `n` in a JSON body; absent means 10. */
const nBody = z
  .number({ error: N_RULE })
  .int(N_RULE)
  .min(1, N_RULE)
  .max(100, N_RULE)
  .optional()
  .transform((n) => n ?? 10);

/** A comma-separated (or repeated) query parameter; empty means "not given". */
function commaList(entry: z.ZodType<string, string>) {
  return z
    .array(z.string())
    .optional()
    .transform((values) => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''))
    .pipe(z.array(entry))
    .transform((list) => (list.length > 0 ? list : undefined));
}

export const categoryList = commaList(z.string().max(256, ID_RULE));
export const idList = commaList(id);

const itemFields = {
  title: z.string().nullable().optional(),
  categories: z.array(z.string().min(1, ID_RULE).max(256, ID_RULE)).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  available: z.boolean().optional(),
};

const item = z.object({ itemId: id, ...itemFields });

export const itemBatch = z.array(item, { error: BATCH_RULE }).min(1, BATCH_RULE).max(MAX_BATCH, BATCH_RULE);

/** PUT body: the id comes from the path, so the body may omit it. */
export const itemUpdate = z.object({ itemId: id.optional(), ...itemFields });

export const sessionRequest = z.object({
  items: z.array(id).max(1_000),
  n: nBody,
});

/** Epoch ms, or undefined when `raw` is neither an integer nor an ISO-8601 date-time. */
function epochMs(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && z.iso.datetime({ offset: true }).safeParse(raw).success) return Date.parse(raw);
  return undefined;
}

/**
 * One feedback event, resolved to what the engine stores: value defaults to null, timestamp to
 * `now`. Built per request because the future-time rule depends on the clock.
 */
export function feedbackEvent(now: number) {
  return z
    .object({
      userId: id,
      itemId: id,
      type: z.enum(FEEDBACK_TYPES),
      value: z.number().nullable().optional(),
      timestamp: z.unknown().optional(),
    })
    .transform((e, ctx): FeedbackInput => {
      const fail = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
      const value = e.value ?? null;
      if (e.type === 'rating' && (value === null || value < 0.5 || value > 5)) {
        fail('value', 'must be a number from 0.5 to 5 when type is rating');
      }
      const timestamp = e.timestamp === undefined ? now : epochMs(e.timestamp);
      if (timestamp === undefined) fail('timestamp', TIMESTAMP_RULE);
      else if (timestamp < 0) fail('timestamp', 'must not be before 1970-01-01T00:00:00Z');
      else if (timestamp > now + DAY_MS) fail('timestamp', 'must not be more than 1 day in the future');
      // With an issue recorded zod discards this value, so the fallback is never stored.
      return { userId: e.userId, itemId: e.itemId, type: e.type, value, timestamp: timestamp ?? now };
    });
}

export function feedbackBatch(now: number) {
  return z.array(feedbackEvent(now)).min(1, BATCH_RULE).max(MAX_BATCH, BATCH_RULE);
}

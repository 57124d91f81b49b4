import { z } from 'zod';
import type { FeedbackInput } from '../store/types.ts';
import { FEEDBACK_TYPES } from '../store/types.ts';

/**
 * Request schemas. Messages are rule predicates; validate.ts prefixes the field name.
 * Objects strip unknown keys rather than reject them, so older servers accept newer clients.
 */

const ID_RULE = 'must be 1–256 characters';
const ID_CHARSET_RULE = 'must contain only printable characters: no control characters, line separators or unpaired surrogates';
const N_RULE = 'must be an integer from 1 to 100';
const MAX_BATCH = 10_000;
const BATCH_RULE = `must be an array of 1–${MAX_BATCH} entries`;
const DAY_MS = 86_400_000;
const TIMESTAMP_RULE = 'must be integer epoch milliseconds or an ISO-8601 date-time with a timezone';

/** An id the API only looks up: anything stored once (e.g. by an older version) stays readable and erasable. */
export const id = z.string().min(1, ID_RULE).max(256, ID_RULE);

/**
 * An id the API stores. Control characters and line separators break logs, CSV exports and admin
 * screens; a lone surrogate is not valid UTF-8, so SQLite would store it as U+FFFD and two
 * different ids would become one.
 */
export const newId = id.regex(/^[^\p{Cc}\p{Cs}\p{Zl}\p{Zp}]*$/u, ID_CHARSET_RULE);

/** How many results a request without `n` gets. */
export const DEFAULT_N = 10;

/** `n` as a query parameter; absent means DEFAULT_N. */
export const nQuery = z
  .string()
  .regex(/^\d{1,3}$/, N_RULE)
  .transform(Number)
  .pipe(z.number().min(1, N_RULE).max(100, N_RULE))
  .optional()
  .transform((n) => n ?? DEFAULT_N)
  .meta({ description: 'How many results: an integer from 1 to 100; default 10' });

/** `n` in a JSON body; absent means 10. */
const nBody = z
  .number({ error: N_RULE })
  .int(N_RULE)
  .min(1, N_RULE)
  .max(100, N_RULE)
  .optional()
  .transform((n) => n ?? DEFAULT_N)
  .meta({ description: 'How many results: an integer from 1 to 100; default 10' });

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

const MAX_METADATA_DEPTH = 32;

/** True when `value` nests objects/arrays more than `levels` deep; recurses at most `levels` + 1 deep. */
function deeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  for (const child of Object.values(value)) if (deeperThan(child, levels - 1)) return true;
  return false;
}

/**
 * Free-form, but bounded in depth: it is serialised recursively on the way to the store and back,
 * and a few thousand levels overflow the stack (a 500, found by fuzzing).
 */
const metadata = z
  .record(z.string(), z.unknown())
  .refine((m) => !deeperThan(m, MAX_METADATA_DEPTH), `must be nested at most ${MAX_METADATA_DEPTH} levels deep`);

/**
 * Free text stored as text, unlike JSON-encoded metadata: a lone surrogate would be mangled (not
 * valid UTF-8), and PostgreSQL's text cannot hold U+0000 at all, so both are refused up front
 * rather than stored on one backend and refused by the other.
 */
const TEXT_RULE = 'must be valid Unicode text: no unpaired surrogates or U+0000';
const storableText = z.string().regex(/^[^\p{Cs}\u0000]*$/u, TEXT_RULE);

const itemFields = {
  title: storableText.nullable().optional(),
  categories: z.array(storableText.min(1, ID_RULE).max(256, ID_RULE)).optional(),
  metadata: metadata.optional(),
  available: z.boolean().optional(),
};

const item = z.object({ itemId: newId, ...itemFields });

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
      userId: newId,
      itemId: newId,
      type: z.enum(FEEDBACK_TYPES),
      value: z.number().nullable().optional().meta({ description: 'Stars from 0.5 to 5, required when type is rating; unused by the other types' }),
      timestamp: z.unknown().optional().meta({
        description: `Event time: ${TIMESTAMP_RULE}; at most 1 day in the future; default now`,
        anyOf: [{ type: 'integer' }, { type: 'string', format: 'date-time' }],
      }),
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

/** A batch whose rows are checked one by one (partial import): only its shape is checked here. */
export const rowBatch = z.array(z.unknown(), { error: BATCH_RULE }).min(1, BATCH_RULE).max(MAX_BATCH, BATCH_RULE);

/** A boolean query flag; absent means false. */
export const flagQuery = z
  .enum(['true', 'false'])
  .optional()
  .transform((flag) => flag === 'true')
  .meta({ default: 'false' });

/** `?diversity=` 0–1: how much relevance to trade for variety. */
export const diversityQuery = z.coerce.number().min(0, 'diversity must be between 0 and 1').max(1, 'diversity must be between 0 and 1').optional();

/** A non-negative number of days, e.g. `?reshowAfterDays=90`. */
export const daysQuery = z.coerce.number().min(0, 'must be a non-negative number of days').max(36_500, 'must be at most 36500 days').optional();

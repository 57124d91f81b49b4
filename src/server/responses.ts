import { z } from 'zod';

/**
 * Response schemas: what every route answers, as the OpenAPI document (openapi.ts) and the typed
 * client (src/client) see it. The routes check their bodies against these types at compile time
 * (`satisfies`), and test/server/openapi.test.ts parses real answers with them, so neither the
 * docs nor the client can drift from what the server sends. An `id` in the metadata makes the
 * schema a named component of the document. Times are ISO-8601 strings unless noted.
 */

const isoTime = z.string().meta({ format: 'date-time' });
const modelVersion = z.number().int().nullable().meta({ description: 'null while answers come from popularity (no model yet)' });

export const error = z
  .object({
    error: z.object({
      code: z.enum(['invalid_input', 'unauthorized', 'not_found', 'payload_too_large', 'rate_limited', 'unavailable', 'internal']),
      message: z.string().meta({ description: 'Names the field and the rule it broke, e.g. "n must be an integer from 1 to 100"' }),
      field: z.string().nullable().meta({ description: 'The offending input in path notation (`userId`, `[17].type`, `items[3]`), or null' }),
      requestId: z.string().optional().meta({ description: 'On 500s: quote it when reporting the error (also sent as X-Request-Id)' }),
    }),
  })
  .meta({ id: 'Error' });

export const scoredItem = z
  .object({
    itemId: z.string(),
    score: z.number(),
    because: z
      .array(z.union([z.object({ itemId: z.string(), weight: z.number() }), z.object({ category: z.string(), weight: z.number() })]))
      .optional()
      .meta({
        description:
          "With `explain=true`: the user's items that pushed this score most, with their contribution; for a short history's " +
          "blended list also the user's categories, each with its share (0–1) of the score",
      }),
  })
  .meta({ id: 'ScoredItem' });

const recommendations = z.array(scoredItem);

export const item = z
  .object({
    itemId: z.string(),
    title: z.string().nullable(),
    categories: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    available: z.boolean().meta({ description: 'false once retired: never recommended again, history kept' }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Item' });

const modelStatus = z.enum(['ready', 'training', 'empty']);

export const health = z
  .object({
    status: z.literal('ok'),
    model: z.object({ version: z.number().int().nullable(), status: modelStatus }),
    items: z.number().int(),
    feedback: z.number().int(),
    warnings: z.array(z.string()).meta({ description: 'Problems the engine recovered from, e.g. a corrupt model file skipped at load' }),
  })
  .meta({ id: 'Health' });

export const popular = z.object({ recommendations }).meta({ id: 'Popular' });

export const sessionRecommendations = z.object({ modelVersion, recommendations }).meta({ id: 'SessionRecommendations' });

export const upserted = z.object({ upserted: z.number().int() }).meta({ id: 'Upserted' });

export const itemRetired = z.object({ itemId: z.string(), available: z.literal(false) }).meta({ id: 'ItemRetired' });

export const similarItems = z.object({ itemId: z.string(), similar: recommendations }).meta({ id: 'SimilarItems' });

export const feedbackAccepted = z
  .object({
    accepted: z.number().int().meta({ description: 'Events stored by this request (0 for an exact duplicate)' }),
    duplicates: z.number().int(),
    userId: z.string(),
    modelVersion,
    recommendations,
  })
  .meta({ id: 'FeedbackAccepted', description: 'One event: stored, folded into the profile, answered with fresh recommendations' });

export const feedbackImported = z
  .object({ accepted: z.number().int(), duplicates: z.number().int() })
  .meta({ id: 'FeedbackImported', description: 'An array: stored in one transaction, all or nothing' });

export const feedbackPartial = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(z.object({ index: z.number().int(), field: z.string(), message: z.string() })),
  })
  .meta({ id: 'FeedbackPartial', description: 'An array with `?partial=true`: the valid rows stored, the others listed with the 400 they would have caused' });

export const feedback = z
  .union([feedbackAccepted, feedbackPartial, feedbackImported])
  .meta({ id: 'Feedback', description: 'FeedbackAccepted for one event, FeedbackImported for an array, FeedbackPartial with partial=true' });

export const userRecommendations = z.object({ userId: z.string(), modelVersion, recommendations }).meta({ id: 'UserRecommendations' });

export const similarUsers = z
  .object({ userId: z.string(), similar: z.array(z.object({ userId: z.string(), score: z.number() })) })
  .meta({ id: 'SimilarUsers' });

const categoryWeight = z.object({ category: z.string(), weight: z.number() });
const countsByType = z.record(z.string(), z.number().int());

export const profile = z
  .object({
    userId: z.string(),
    interactions: z.number().int(),
    firstSeen: isoTime,
    lastSeen: isoTime,
    updatedAt: isoTime,
    topCategories: z.array(categoryWeight).meta({ description: 'Decayed interest per category, summing to 1' }),
    segment: z
      .object({ id: z.number().int(), label: z.string() })
      .nullable()
      .meta({ description: "Nearest segment to the user's current vector; null without a factor model" }),
    drift: z
      .object({ distance: z.number(), grew: z.array(categoryWeight), shrank: z.array(categoryWeight) })
      .nullable()
      .meta({ description: 'How far the user moved since the last retrain; null when there is nothing to compare' }),
    activity: z.object({ last7Days: countsByType, last30Days: countsByType }),
    flags: z
      .array(z.object({ reason: z.string(), at: isoTime }))
      .meta({ description: "Quarantine flags: while present, the user's events are kept but not learned from" }),
  })
  .meta({ id: 'Profile' });

export const userExport = z
  .object({
    userId: z.string(),
    profile,
    feedback: z.array(
      z.object({ itemId: z.string(), type: z.string(), value: z.number().nullable(), timestamp: z.number().int().meta({ description: 'Epoch milliseconds' }) }),
    ),
  })
  .meta({ id: 'UserExport' });

export const unflagged = z.object({ userId: z.string(), flags: z.tuple([]) }).meta({ id: 'Unflagged' });

export const userDeleted = z.object({ userId: z.string(), deleted: z.number().int() }).meta({ id: 'UserDeleted' });

export const model = z
  .object({
    version: z.number().int().nullable(),
    status: modelStatus,
    algorithm: z.string(),
    params: z.record(z.string(), z.unknown()),
    trainedAt: isoTime.nullable(),
    metrics: z.record(z.string(), z.unknown()),
    training: z
      .object({
        jobId: z.string(),
        startedAt: isoTime,
        progress: z.number().min(0).max(1).meta({ description: "Share of the fit's steps done, 0–1; never decreases within a job (1 while saving)" }),
        phase: z.enum(['starting', 'fitting', 'saving']).meta({
          description: 'starting: the training set is on its way to the training thread; fitting: the model is learning; saving: the fitted model is being serialised',
        }),
      })
      .optional()
      .meta({ description: 'Present while a retrain runs' }),
  })
  .meta({ id: 'Model' });

export const trainStarted = z.object({ jobId: z.string() }).meta({ id: 'TrainStarted' });

const segment = z
  .object({
    id: z.number().int(),
    label: z.string().meta({ description: 'The segment\'s top categories, e.g. "Comedy & Romance"' }),
    size: z.number().int().meta({ description: 'Users assigned at the last retrain' }),
  })
  .meta({ id: 'Segment' });

export const segments = z.object({ segments: z.array(segment) }).meta({ id: 'Segments' });

export const segmentMap = z
  .object({
    segments: z.array(segment),
    points: z.array(z.object({ userId: z.string(), x: z.number(), y: z.number(), segment: z.number().int() })),
    explained: z.tuple([z.number(), z.number()]).meta({ description: 'Share of variance along each axis' }),
  })
  .meta({ id: 'SegmentMap' });

export const stats = z
  .object({
    feedback: z.object({ total: z.number().int(), byType: countsByType }),
    eventsPerMinute: z.array(z.object({ minute: isoTime, byType: countsByType })),
    quarantinedUsers: z.number().int(),
  })
  .meta({ id: 'Stats' });

export const evaluations = z
  .array(z.object({ kind: z.string(), createdAt: isoTime, summary: z.record(z.string(), z.unknown()) }))
  .meta({ id: 'Evaluations', description: 'Recorded `eval` / `replay` runs, newest first' });

import { z } from 'zod';
import * as res from './responses.ts';
import {
  categoryList,
  daysQuery,
  diversityQuery,
  feedbackBatch,
  feedbackEvent,
  flagQuery,
  id,
  idList,
  itemBatch,
  itemUpdate,
  newId,
  nQuery,
  sessionRequest,
} from './schemas.ts';

/**
 * The operation table: every JSON route of the API once, with the schemas the route validates
 * with (the same objects, from schemas.ts) and the schema of what it answers (responses.ts).
 * openapi.ts builds the OpenAPI document from it and src/client takes its types from it, so
 * docs, client and server share one description. test/server/openapi.test.ts checks the table
 * against the routes the app really mounts.
 *
 * Paths use OpenAPI's `{name}` for parameters. `auth`: `none` never needs a key; `read` needs the
 * read key (or the API key) when the server has one; `write` needs the API key when it has one.
 */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: 'none' | 'read' | 'write';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success status and its body. */
  status: 200 | 202;
  response: z.ZodType;
  /** When the route answers 404 for an id that is not stored (unknown routes always 404). */
  notFound?: string;
}

/** The clock the feedback schema is documented at: its future-time rule is the only part that moves. */
const DOC_CLOCK = 0;

const userParams = z.object({ userId: id });
const itemParams = z.object({ itemId: id });
const nOnly = z.object({ n: nQuery });

const recommendQuery = z.object({
  n: nQuery,
  category: categoryList.meta({ description: 'Only items in one of these categories (comma-separated or repeated)' }),
  excludeCategory: categoryList.meta({ description: 'Never items in any of these categories' }),
  exclude: idList.meta({ description: 'Item ids never returned' }),
  explain: flagQuery.meta({ description: 'Add `because` (the items that pushed each score most) to every recommendation' }),
  diversity: diversityQuery.meta({ description: '0–1: trade relevance for variety across categories' }),
  reshowAfterDays: daysQuery.meta({ description: 'Items the user interacted with longer ago than this may be shown again' }),
});

export const operations = {
  health: {
    method: 'get',
    path: '/health',
    tag: 'operations',
    summary: 'Liveness, model status and counts',
    description: 'Outside /v1: never needs a key and is exempt from rate limits, so load balancers can probe it.',
    auth: 'none',
    status: 200,
    response: res.health,
  },
  popular: {
    method: 'get',
    path: '/v1/popular',
    tag: 'recommendations',
    summary: 'Time-decayed popular items',
    auth: 'read',
    query: z.object({ n: nQuery, category: recommendQuery.shape.category }),
    status: 200,
    response: res.popular,
  },
  session: {
    method: 'post',
    path: '/v1/session/recommend',
    tag: 'recommendations',
    summary: 'Recommendations for an anonymous visitor',
    description: 'Folds the listed items in transiently; nothing is stored.',
    auth: 'write',
    body: sessionRequest,
    status: 200,
    response: res.sessionRecommendations,
  },
  upsertItems: {
    method: 'post',
    path: '/v1/items',
    tag: 'items',
    summary: 'Create or update up to 10,000 items',
    description: 'Omitted fields keep their stored value on an existing item.',
    auth: 'write',
    body: itemBatch,
    status: 200,
    response: res.upserted,
  },
  putItem: {
    method: 'put',
    path: '/v1/items/{itemId}',
    tag: 'items',
    summary: 'Create or update one item',
    description: 'The body may omit itemId; when given it must match the path.',
    auth: 'write',
    params: z.object({ itemId: newId }),
    body: itemUpdate,
    status: 200,
    response: res.item,
  },
  getItem: {
    method: 'get',
    path: '/v1/items/{itemId}',
    tag: 'items',
    summary: 'Read one item',
    auth: 'read',
    params: itemParams,
    status: 200,
    response: res.item,
    notFound: 'the item is not stored',
  },
  deleteItem: {
    method: 'delete',
    path: '/v1/items/{itemId}',
    tag: 'items',
    summary: 'Retire an item',
    description: 'The item is never recommended again; its history is kept.',
    auth: 'write',
    params: itemParams,
    status: 200,
    response: res.itemRetired,
    notFound: 'the item is not stored',
  },
  similarItems: {
    method: 'get',
    path: '/v1/items/{itemId}/similar',
    tag: 'items',
    summary: 'Items similar to an item',
    auth: 'read',
    params: itemParams,
    query: nOnly,
    status: 200,
    response: res.similarItems,
    notFound: 'the item is not stored',
  },
  feedback: {
    method: 'post',
    path: '/v1/feedback',
    tag: 'feedback',
    summary: 'Record one event (live) or import a batch',
    description:
      'One event is stored, folded into the user\'s profile and answered with fresh recommendations (`n`). ' +
      'An array of up to 10,000 events is an import: validated in full and stored in one transaction, ' +
      'unless `partial=true` asks to store the valid rows and list the rejected ones.',
    auth: 'write',
    query: z.object({
      n: nQuery.meta({ description: 'For a single event: how many recommendations to answer with (1–100, default 10)' }),
      partial: flagQuery.meta({ description: 'For an array: store the valid rows and list the others instead of rejecting the batch' }),
    }),
    body: z.union([feedbackEvent(DOC_CLOCK), feedbackBatch(DOC_CLOCK)]),
    status: 200,
    response: res.feedback,
    notFound: 'the event names an item that is not stored',
  },
  recommendations: {
    method: 'get',
    path: '/v1/users/{userId}/recommendations',
    tag: 'recommendations',
    summary: "A user's recommendations",
    description: 'Unknown users get cold-start (popular) items, never an error.',
    auth: 'read',
    params: userParams,
    query: recommendQuery,
    status: 200,
    response: res.userRecommendations,
  },
  similarUsers: {
    method: 'get',
    path: '/v1/users/{userId}/similar',
    tag: 'users',
    summary: 'Users similar to a user',
    auth: 'read',
    params: userParams,
    query: nOnly,
    status: 200,
    response: res.similarUsers,
    notFound: 'the user is not stored',
  },
  profile: {
    method: 'get',
    path: '/v1/users/{userId}/profile',
    tag: 'users',
    summary: "A user's living profile: interests, segment, drift, activity, flags",
    auth: 'read',
    params: userParams,
    status: 200,
    response: res.profile,
    notFound: 'the user is not stored',
  },
  exportUser: {
    method: 'get',
    path: '/v1/users/{userId}/export',
    tag: 'users',
    summary: 'Everything stored about a user (right of access)',
    auth: 'read',
    params: userParams,
    status: 200,
    response: res.userExport,
    notFound: 'the user is not stored',
  },
  unflag: {
    method: 'post',
    path: '/v1/users/{userId}/unflag',
    tag: 'users',
    summary: 'Lift a quarantine and fold the user back in',
    auth: 'write',
    params: userParams,
    status: 200,
    response: res.unflagged,
    notFound: 'the user is not stored',
  },
  deleteUser: {
    method: 'delete',
    path: '/v1/users/{userId}',
    tag: 'users',
    summary: "Erase a user's events and vector",
    auth: 'write',
    params: userParams,
    status: 200,
    response: res.userDeleted,
    notFound: 'the user is not stored',
  },
  model: {
    method: 'get',
    path: '/v1/model',
    tag: 'model',
    summary: 'Model status',
    auth: 'read',
    status: 200,
    response: res.model,
  },
  train: {
    method: 'post',
    path: '/v1/model/train',
    tag: 'model',
    summary: 'Start a background retrain',
    description: 'Answers at once; poll GET /v1/model for the outcome. 400 when no usable feedback is stored yet.',
    auth: 'write',
    status: 202,
    response: res.trainStarted,
  },
  segments: {
    method: 'get',
    path: '/v1/segments',
    tag: 'insights',
    summary: 'User segments from the last retrain, largest first',
    auth: 'read',
    status: 200,
    response: res.segments,
  },
  segmentMap: {
    method: 'get',
    path: '/v1/segments/map',
    tag: 'insights',
    summary: 'Users projected to 2-D with their segment',
    auth: 'read',
    status: 200,
    response: res.segmentMap,
  },
  stats: {
    method: 'get',
    path: '/v1/stats',
    tag: 'insights',
    summary: 'Event totals and per-minute arrivals over the last 30 minutes',
    auth: 'read',
    status: 200,
    response: res.stats,
  },
  evaluations: {
    method: 'get',
    path: '/v1/evaluations',
    tag: 'insights',
    summary: 'Recorded eval / replay runs, newest first',
    auth: 'read',
    status: 200,
    response: res.evaluations,
  },
} as const satisfies Record<string, Operation>;

export type Operations = typeof operations;
/** The name of an API operation, as in /openapi.json and the client's `request`. */
export type OperationId = keyof Operations;

type Field<K extends OperationId, F extends string> = Operations[K] extends { [P in F]: infer S extends z.ZodType } ? S : never;

/** The success body of an operation, as the client receives it. */
export type ResponseOf<K extends OperationId> = z.output<Operations[K]['response']>;
/** Path parameters, as sent. */
export type ParamsOf<K extends OperationId> = z.input<Field<K, 'params'>>;
/** Query parameters as values (numbers, booleans, lists), all optional: the server applies the defaults. */
export type QueryOf<K extends OperationId> = Partial<z.output<Field<K, 'query'>>>;
/** The JSON body, as sent. */
export type BodyOf<K extends OperationId> = z.input<Field<K, 'body'>>;

/** What the error responses carry; see errors.ts. */
export type ErrorBody = z.output<typeof res.error>['error'];

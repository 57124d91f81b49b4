/**
 * The typed client: `import { createClient } from 'liverec/client'`. Runs in browsers and in
 * Node 20 (it needs only `fetch`). Its request and response types come from the server's own
 * schemas (src/server/api.ts) through type-only imports, so the runtime code below imports
 * nothing from the server and bundles to a few kilobytes.
 */
import type { z } from 'zod';
import type { BodyOf, OperationId, Operations, ParamsOf, QueryOf, ResponseOf } from '../server/api.ts';
import type { feedbackAccepted, feedbackImported, feedbackPartial } from '../server/responses.ts';
import type { feedbackEvent } from '../server/schemas.ts';
import { errorFrom } from './error.ts';

export { LiverecError } from './error.ts';
export type { OperationId, ResponseOf, QueryOf, BodyOf, ParamsOf } from '../server/api.ts';

/** What the client calls to send a request; `app.request` of a liverec app fits, as does `fetch`. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response> | Response;

/** Where the server is and how to reach it. */
export interface ClientOptions {
  /** Where the server is, e.g. `https://recs.example.com` or `/` for the page's own origin. */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. In a browser use the server's read key, never the
   * API key that allows writes, unless the page belongs to an operator.
   */
  apiKey?: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** Method and path of every operation; the type makes the compiler hold them to the server's table. */
const ROUTES = {
  health: ['get', '/health'],
  popular: ['get', '/v1/popular'],
  session: ['post', '/v1/session/recommend'],
  upsertItems: ['post', '/v1/items'],
  putItem: ['put', '/v1/items/{itemId}'],
  getItem: ['get', '/v1/items/{itemId}'],
  deleteItem: ['delete', '/v1/items/{itemId}'],
  similarItems: ['get', '/v1/items/{itemId}/similar'],
  feedback: ['post', '/v1/feedback'],
  recommendations: ['get', '/v1/users/{userId}/recommendations'],
  similarUsers: ['get', '/v1/users/{userId}/similar'],
  profile: ['get', '/v1/users/{userId}/profile'],
  exportUser: ['get', '/v1/users/{userId}/export'],
  unflag: ['post', '/v1/users/{userId}/unflag'],
  deleteUser: ['delete', '/v1/users/{userId}'],
  model: ['get', '/v1/model'],
  train: ['post', '/v1/model/train'],
  segments: ['get', '/v1/segments'],
  segmentMap: ['get', '/v1/segments/map'],
  stats: ['get', '/v1/stats'],
  evaluations: ['get', '/v1/evaluations'],
} as const satisfies { [K in OperationId]: readonly [Operations[K]['method'], Operations[K]['path']] };

type IfAny<T, Then> = [T] extends [never] ? unknown : Then;

/** What `request(operation, input)` takes: the parts the operation has, nothing else. */
export type RequestInput<K extends OperationId> = IfAny<ParamsOf<K>, { params: ParamsOf<K> }> &
  IfAny<QueryOf<K>, { query?: QueryOf<K> }> &
  IfAny<BodyOf<K>, { body: BodyOf<K> }> & { signal?: AbortSignal };

/** One feedback event as sent; `timestamp` is epoch ms or an ISO-8601 date-time, default now. */
export type FeedbackEvent = Omit<z.input<ReturnType<typeof feedbackEvent>>, 'timestamp'> & { timestamp?: number | string };
/** The answer to one event: what was stored and the user's updated recommendations. */
export type FeedbackAccepted = z.output<typeof feedbackAccepted>;
/** The answer to a batch stored all or nothing. */
export type FeedbackImported = z.output<typeof feedbackImported>;
/** The answer to a batch sent with `partial`: the rows stored and the rows rejected, with why. */
export type FeedbackPartial = z.output<typeof feedbackPartial>;
/** A catalog item as the server returns it. */
export type Item = ResponseOf<'getItem'>;
/** One item for `upsertItems`; omitted fields keep their stored values. */
export type ItemInput = BodyOf<'upsertItems'>[number];
/** The fields `putItem` sets on one item. */
export type ItemUpdate = BodyOf<'putItem'>;
/** A recommended item and its score, with `because` when `explain` was asked for. */
export type ScoredItem = ResponseOf<'popular'>['recommendations'][number];
/** A user's interests, segment, drift, activity and flags. */
export type Profile = ResponseOf<'profile'>;
/** `GET /health`: status, serving model, catalog and feedback counts, warnings. */
export type Health = ResponseOf<'health'>;
/** The serving model and any retrain in progress. */
export type ModelInfo = ResponseOf<'model'>;
/** The options of `recommendations`: n, categories, exclusions, explain, diversity, reshowAfterDays. */
export type RecommendationsQuery = QueryOf<'recommendations'>;

/** What `createClient` returns: one method per operation, plus `request`. */
export type LiverecClient = ReturnType<typeof createClient>;

/** A client for one liverec server; every method resolves with the success body or rejects with `LiverecError`. */
export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const send: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;

  /** Sends any operation of the table; resolves with its success body, rejects with LiverecError. */
  async function request<K extends OperationId>(operation: K, input: RequestInput<K>): Promise<ResponseOf<K>> {
    const { params, query, body, signal } = input as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; signal?: AbortSignal };
    const [method, template] = ROUTES[operation];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params?.[name] ?? ''));
    const init: RequestInit = { method: method.toUpperCase(), headers, signal };
    if (body !== undefined) {
      init.headers = { ...headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const res = await send(`${base}${path}${queryString(query)}`, init);
    const text = await res.text();
    if (!res.ok) throw errorFrom(res, text);
    return JSON.parse(text) as ResponseOf<K>;
  }

  const userParams = (userId: string) => ({ params: { userId } });
  const itemParams = (itemId: string) => ({ params: { itemId } });

  return {
    request,
    health: () => request('health', {}),
    /** Unknown users get cold-start (popular) items, never an error. */
    recommendations: (userId: string, query: RecommendationsQuery = {}) => request('recommendations', { ...userParams(userId), query }),
    /** Stores one event, folds it into the profile, answers with fresh recommendations. */
    feedback: async (event: FeedbackEvent, query: { n?: number } = {}) =>
      (await request('feedback', { body: event, query })) as FeedbackAccepted,
    /** Imports up to 10,000 events in one transaction; `partial` stores the valid rows and lists the rest. */
    feedbackBatch: (async (events: FeedbackEvent[], query: { partial?: boolean } = {}) => request('feedback', { body: events, query })) as {
      (events: FeedbackEvent[], query: { partial: true }): Promise<FeedbackPartial>;
      (events: FeedbackEvent[], query?: { partial?: false }): Promise<FeedbackImported>;
      (events: FeedbackEvent[], query?: { partial?: boolean }): Promise<FeedbackImported | FeedbackPartial>;
    },
    popular: (query: QueryOf<'popular'> = {}) => request('popular', { query }),
    /** Recommendations for an anonymous visitor who looked at `items`; nothing is stored. */
    session: (items: string[], query: { n?: number } = {}) => request('session', { body: { items, ...query } }),
    profile: (userId: string) => request('profile', userParams(userId)),
    similarUsers: (userId: string, query: { n?: number } = {}) => request('similarUsers', { ...userParams(userId), query }),
    exportUser: (userId: string) => request('exportUser', userParams(userId)),
    unflag: (userId: string) => request('unflag', userParams(userId)),
    deleteUser: (userId: string) => request('deleteUser', userParams(userId)),
    upsertItems: (items: ItemInput[]) => request('upsertItems', { body: items }),
    putItem: (itemId: string, fields: ItemUpdate = {}) => request('putItem', { ...itemParams(itemId), body: fields }),
    getItem: (itemId: string) => request('getItem', itemParams(itemId)),
    deleteItem: (itemId: string) => request('deleteItem', itemParams(itemId)),
    similarItems: (itemId: string, query: { n?: number } = {}) => request('similarItems', { ...itemParams(itemId), query }),
    model: () => request('model', {}),
    /** Starts a background retrain; poll `model()` for its outcome. */
    train: () => request('train', {}),
    segments: () => request('segments', {}),
    segmentMap: () => request('segmentMap', {}),
    stats: () => request('stats', {}),
    evaluations: () => request('evaluations', {}),
  };
}

/** Lists become repeated parameters (`category=a&category=b`); undefined values are left out. */
function queryString(query: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const entry of Array.isArray(value) ? value : [value]) search.append(name, String(entry));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

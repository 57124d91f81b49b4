/**
 * Property-based fuzzing of every route over a REAL engine (in-memory SQLite, trained model).
 * For each route, hostile bodies, headers, paths and queries must never produce a 5xx, must
 * always produce JSON (the documented error shape on 4xx), and must change the stored feedback
 * count only on 2xx, by exactly what the response reports.
 *
 * The default run is quick (200 cases per route). For a long drill:
 *   FUZZ_RUNS=20000 npx vitest run test/server/fuzz.test.ts
 * A failure prints its seed; replay it with FUZZ_SEED=<seed> (and the same FUZZ_RUNS).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { operations, type Operation, type OperationId } from '../../src/server/api.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';
import { anyJson, bodies, bodyFor, headers, KEY, nastyString, pathParam, queryFor, type Body } from './fuzz-arbitraries.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
// Room for big FUZZ_RUNS; a default run takes a few seconds.
const TIMEOUT = Math.max(60_000, RUNS * 50);

let store: SqliteStore;
let engine: Engine;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  store = SqliteStore.open(':memory:');
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0 });
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  await engine.trainNow();
  // Every layer switched on, so the middleware is fuzzed too; the limit is far out of reach.
  app = createApp(engine, { apiKey: KEY, cors: { origins: ['https://shop.example'] }, rateLimit: { requestsPerSecond: 1e6, burst: 1e9 } });
});

afterAll(async () => {
  await engine.close();
  await store.close();
});

interface Route {
  method: string;
  /** `:param` segments are filled from `pathParam`. */
  path: string;
  body?: fc.Arbitrary<string>;
  query?: string[];
}

/** Near-valid bodies per operation that takes one; the others get anything at all. */
const BODIES: Partial<Record<OperationId, fc.Arbitrary<string>>> = {
  session: bodies.session,
  upsertItems: bodies.items,
  putItem: bodies.itemUpdate,
  feedback: bodies.feedback,
};

/** Every operation of the API's table (the one the docs and client come from), so a new route is fuzzed at once. */
const ROUTES: Route[] = (Object.entries(operations) as Array<[OperationId, Operation]>).map(([operationId, op]) => ({
  method: op.method.toUpperCase(),
  path: op.path.replace(/\{(\w+)\}/g, ':$1'),
  body: BODIES[operationId] ?? (op.body ? fc.oneof(anyJson.map((v) => JSON.stringify(v)), nastyString) : undefined),
  query: op.query ? Object.keys(op.query.shape) : undefined,
}));

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Body;
}

function requestFor(route: Route): fc.Arbitrary<FuzzRequest> {
  const params = route.path.split('/').filter((s) => s.startsWith(':'));
  const canHaveBody = route.method !== 'GET' && route.method !== 'HEAD';
  return fc
    .record({
      values: fc.tuple(...params.map(() => pathParam)),
      query: queryFor(route.query ?? []),
      headers,
      body: canHaveBody ? bodyFor(route.body) : fc.constant(undefined),
    })
    .map(({ values, query, headers, body }) => {
      let i = 0;
      const path = route.path.replace(/:\w+/g, () => values[i++]);
      return printable({ method: route.method, url: `${path}${query}`, headers, body });
    });
}

/** Counterexamples print with long bodies cut short: a 100,000-level nesting would flood the report. */
function printable(req: FuzzRequest): FuzzRequest {
  return Object.assign(req, {
    [fc.toStringMethod]: () => {
      const body = typeof req.body === 'string' && req.body.length > 400 ? `${req.body.slice(0, 400)}… (${req.body.length} chars)` : req.body;
      return fc.stringify({ ...req, body });
    },
  });
}

function expectErrorShape(body: unknown) {
  expect(Object.keys(body as object)).toStrictEqual(['error']);
  const { error } = body as { error: Record<string, unknown> };
  expect(Object.keys(error)).toStrictEqual(['code', 'message', 'field']);
  expect(typeof error.code).toBe('string');
  expect(typeof error.message).toBe('string');
  expect(error.field === null || typeof error.field === 'string').toBe(true);
}

/** A NaN or infinite score serialises as null: every score and weight in an answer must be a number. */
function expectNumericScores(value: unknown, path = 'body'): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'score' || key === 'weight') expect(typeof child, `${path}.${key}`).toBe('number');
    else expectNumericScores(child, `${path}.${key}`);
  }
}

/**
 * How a 2xx answer says the stored feedback count changed: feedback posts report `accepted`,
 * user erasure reports `deleted`; nothing else may change it. Read from the answer's shape, so it
 * also holds when a garbled path still reached one of those routes.
 */
function reportedDelta(body: Record<string, unknown>): number {
  if (typeof body.accepted === 'number') return body.accepted;
  if (typeof body.deleted === 'number' && typeof body.userId === 'string') return -body.deleted;
  return 0;
}

/** Sends one request and checks every property; returns the status for statistics. */
async function check(req: FuzzRequest): Promise<number> {
  const before = await store.countFeedback();
  const res = await app.request(req.url, { method: req.method, headers: req.headers, body: req.body });
  const text = await res.text();
  const after = await store.countFeedback();

  expect(res.status, text).toBeLessThan(500);
  expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('cache-control')).toBe('no-store');

  // Preflights (204) and HEAD carry no body; everything else is JSON.
  if (res.status === 204 || req.method === 'HEAD') {
    expect(after).toBe(before);
    return res.status;
  }
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text);
  if (res.status >= 400) {
    expectErrorShape(body);
    expect(after, 'a rejected request changed the stored feedback').toBe(before);
  } else {
    expect(after - before, 'stored feedback changed by other than the reported amount').toBe(reportedDelta(body));
    expectNumericScores(body);
  }
  return res.status;
}

/** Status counts per route, printed after a drill (FUZZ_RUNS set) to show the 2xx paths were reached. */
const seen = new Map<string, Map<number, number>>();
afterAll(() => {
  if (process.env.FUZZ_RUNS === undefined) return;
  const lines = [...seen].map(([route, statuses]) => `${route.padEnd(40)} ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  console.log(`fuzz: ${RUNS} runs per route${SEED === undefined ? '' : `, seed ${SEED}`}\n${lines.join('\n')}`);
});

function tally(route: string, status: number) {
  const statuses = seen.get(route) ?? new Map<number, number>();
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  seen.set(route, statuses);
}

describe('fuzzing every route over the real engine', () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s',
    async (name, route) => {
      await fc.assert(
        fc.asyncProperty(requestFor(route), async (req) => tally(name, await check(req))),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'any method on any path',
    async () => {
      const words = fc.constantFrom('v1', 'items', 'users', 'feedback', 'model', 'train', 'health', 'popular', 'session', 'recommend', 'similar', 'profile', 'recommendations', 'export', 'unflag', 'segments', 'map', 'stats', 'evaluations', '');
      const request = fc.record({
        method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'QUERY'),
        segments: fc.array(fc.oneof(words, pathParam), { minLength: 1, maxLength: 5 }),
        query: queryFor(['n', 'partial', 'category', 'exclude']),
        headers,
        body: bodyFor(fc.oneof(anyJson.map((v) => JSON.stringify(v)), nastyString)),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ method, segments, query, headers, body }) => {
          const withBody = method !== 'GET' && method !== 'HEAD';
          const req = printable({ method, url: `/${segments.join('/')}${query}`, headers, body: withBody ? body : undefined });
          tally('* *', await check(req));
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it('left the engine able to train on what was stored, and Object.prototype unpolluted', async () => {
    await engine.trainNow();
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    const health = await res.json();
    expect(health.warnings).toStrictEqual([]);
    expect(health.model.status).toBe('ready');
    for (const userId of ['hu1', 'au1']) {
      const recs = await (await app.request(`/v1/users/${userId}/recommendations?n=5`)).json();
      for (const r of recs.recommendations) expect(Number.isFinite(r.score)).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

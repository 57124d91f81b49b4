import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Engine } from '../../src/engine/engine.ts';
import { operations, type Operation } from '../../src/server/api.ts';
import { createApp } from '../../src/server/app.ts';
import { buildOpenApi } from '../../src/server/openapi.ts';
import * as responses from '../../src/server/responses.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';
import { FakeEngine } from './fake-engine.ts';

/**
 * The operation table (api.ts) against the app: the OpenAPI document it generates is valid 3.1,
 * it lists exactly the JSON routes the app mounts, and real answers of the real engine parse with
 * the declared schemas without losing a field, so the docs and the typed client cannot drift.
 */

/** Routes that are pages or plain text rather than JSON operations; each is tested where it lives. */
const NOT_JSON = ['GET /dashboard', 'GET /dashboard/', 'GET /dashboard/assets/*', 'GET /docs', 'GET /docs/', 'GET /docs/assets/docs.css', 'GET /openapi.json', 'GET /metrics'];

const table = Object.entries(operations) as Array<[string, Operation]>;
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

describe('the OpenAPI document', () => {
  const doc = buildOpenApi();

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('documents every route the app mounts, and mounts every documented one', () => {
    const app = createApp(new FakeEngine());
    const mounted = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
    const documented = table.map(([, op]) => `${op.method.toUpperCase()} ${honoPath(op.path)}`);
    const undocumented = mounted.filter((route) => !documented.includes(route) && !NOT_JSON.includes(route));
    expect(undocumented, 'add these routes to src/server/api.ts').toEqual([]);
    expect(documented.filter((route) => !mounted.includes(route))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('declares every path parameter, and the auth and errors of each operation', () => {
    for (const [operationId, op] of table) {
      const entry = (doc.paths[op.path] as Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }>; responses: object; security: unknown[] }>)[op.method];
      expect(entry.operationId).toBe(operationId);
      const inPath = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect((entry.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(inPath);
      const statuses = Object.keys(entry.responses);
      expect(statuses).toContain(String(op.status));
      for (const status of ['500', '503']) expect(statuses).toContain(status);
      if (op.auth !== 'none') expect(statuses).toEqual(expect.arrayContaining(['401', '429']));
      expect(entry.security.length > 0).toBe(op.auth !== 'none');
    }
  });

  it('gives query parameters their input side: what a client sends, not what the server parses it to', () => {
    const recommend = doc.paths['/v1/users/{userId}/recommendations'].get as { parameters: Array<{ name: string; schema: Record<string, unknown> }> };
    const param = (name: string) => recommend.parameters.find((p) => p.name === name)!;
    expect(param('n').schema).toEqual({ type: 'string', pattern: '^\\d{1,3}$' });
    expect(param('explain').schema).toMatchObject({ type: 'string', enum: ['true', 'false'] });
    expect(param('category').schema).toMatchObject({ type: 'array', items: { type: 'string' } });
  });

  it('describes the error shape once and points every error status at it', () => {
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'], properties: { error: { required: ['code', 'message', 'field'] } } });
    const refs = JSON.stringify(doc).match(/#\/components\/(schemas|responses)\/\w+/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, , kind, name] = ref.split('/');
      expect(doc.components[kind as 'schemas' | 'responses'], ref).toHaveProperty(name);
    }
  });
});

describe('real answers match the declared schemas', () => {
  const KEY = 'openapi-secret';
  let store: SqliteStore;
  let engine: Engine;
  const seen = new Set<string>();

  /** The operation a request went to, found by method and path pattern. */
  function operationFor(method: string, path: string): [string, Operation] {
    const pathname = new URL(path, 'http://x').pathname;
    const found = table.find(([, op]) => op.method === method.toLowerCase() && new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname));
    if (!found) throw new Error(`no operation for ${method} ${pathname}`);
    return found;
  }

  /** `parse` strips undeclared keys, so equality also proves the schema names every field. */
  function expectDeclared(schema: z.ZodType, body: unknown, what: string) {
    const parsed = schema.safeParse(body);
    expect(parsed.error?.issues, what).toBeUndefined();
    expect(parsed.data, `${what}: a field the schema does not declare`).toEqual(body);
  }

  async function check(app: ReturnType<typeof createApp>, method: string, path: string, json?: unknown, key: string | null = KEY) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await app.request(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const body = await res.json();
    const [operationId, op] = operationFor(method, path);
    const what = `${method} ${path} → ${res.status}`;
    if (res.status === op.status) {
      seen.add(operationId);
      expectDeclared(op.response, body, what);
    } else {
      expectDeclared(responses.error, body, what);
      const documented = (buildOpenApi().paths[op.path] as Record<string, { responses: object }>)[op.method].responses;
      expect(Object.keys(documented), `${what} is not a documented status`).toContain(String(res.status));
    }
    return { status: res.status, body };
  }

  beforeAll(async () => {
    store = SqliteStore.open(':memory:');
    engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0 });
    const app = createApp(engine, { apiKey: KEY });
    // Before training: popularity answers, an empty model, no segments.
    await check(app, 'GET', '/health');
    await check(app, 'GET', '/v1/model');
    await check(app, 'GET', '/v1/users/nobody/recommendations');
    await check(app, 'POST', '/v1/items', SHOP_ITEMS);
    await check(app, 'POST', '/v1/feedback', shopFeedback());
    await check(app, 'GET', '/v1/segments/map');
    expect((await check(app, 'POST', '/v1/model/train')).status).toBe(202);
    await check(app, 'GET', '/v1/model'); // while training
    await engine.trainNow();
  });

  afterAll(async () => {
    await engine.close();
    await store.close();
  });

  it('for every operation, over the real engine', async () => {
    const app = createApp(engine, { apiKey: KEY });
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    const requests: Array<[string, string, unknown?]> = [
      ['GET', '/health'],
      ['GET', '/v1/model'],
      ['GET', '/v1/popular?n=3&category=horror'],
      ['POST', '/v1/session/recommend', { items: ['h1', 'h2'], n: 3 }],
      ['PUT', '/v1/items/new1', { title: 'New', categories: ['horror'], metadata: { year: 2024, tags: ['x'] } }],
      ['GET', '/v1/items/h1'],
      ['GET', '/v1/items/h1/similar?n=3'],
      ['DELETE', '/v1/items/new1'],
      ['POST', '/v1/feedback?n=3', { userId: 'hu4', itemId: 'h4', type: 'purchase', timestamp: at(1e7) }],
      ['POST', '/v1/feedback', { userId: 'hu5', itemId: 'h1', type: 'rating', value: 4.5, timestamp: T0 + 2e7 }],
      ['POST', '/v1/feedback?partial=true', [{ userId: 'hu6', itemId: 'h2', type: 'click', timestamp: T0 + 3e7 }, { userId: 'hu6', itemId: 'h2', type: 'nope' }]],
      ['GET', '/v1/users/hu1/recommendations?n=3&explain=true&diversity=0.3&exclude=h1&excludeCategory=animation&reshowAfterDays=90'],
      ['GET', '/v1/users/hu1/similar?n=3'],
      ['GET', '/v1/users/hu4/profile'],
      ['GET', '/v1/users/hu1/export'],
      ['POST', '/v1/users/hu1/unflag'],
      ['GET', '/v1/segments'],
      ['GET', '/v1/segments/map'],
      ['GET', '/v1/stats'],
      ['GET', '/v1/evaluations'],
      ['DELETE', '/v1/users/hu2'],
    ];
    for (const [method, path, json] of requests) {
      const { status } = await check(app, method, path, json);
      expect(status, `${method} ${path}`).toBeLessThan(300);
    }
    expect([...seen].sort()).toEqual(Object.keys(operations).sort());
  });

  it('for the documented errors: 400, 401, 404, 413, 429', async () => {
    const app = createApp(engine, { apiKey: KEY });
    expect((await check(app, 'GET', '/v1/users/hu1/recommendations?n=0')).body.error).toMatchObject({ code: 'invalid_input', field: 'n' });
    expect((await check(app, 'POST', '/v1/feedback', { userId: 'x', itemId: 'h1', type: 'view' }, null)).status).toBe(401);
    expect((await check(app, 'GET', '/v1/users/hu2/profile')).status).toBe(404);
    expect((await check(app, 'GET', '/v1/items/nope/similar')).body.error).toMatchObject({ code: 'not_found', field: 'itemId' });
    const small = createApp(engine, { apiKey: KEY, maxBodyBytes: 64 });
    expect((await check(small, 'POST', '/v1/items', SHOP_ITEMS)).status).toBe(413);
    const limited = createApp(engine, { apiKey: KEY, rateLimit: { requestsPerSecond: 1, burst: 1 } });
    await check(limited, 'GET', '/v1/model');
    expect((await check(limited, 'GET', '/v1/model')).status).toBe(429);
  });

  it('catches an undeclared field (the check itself can fail)', () => {
    const body = { jobId: 'j1', startedAt: '2026-01-01T00:00:00.000Z' };
    expect(responses.trainStarted.parse(body)).not.toEqual(body);
    expect(responses.health.safeParse({ status: 'ok' }).success).toBe(false);
  });
});

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp, type AppOptions } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';
import { setup } from './helpers.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/**
 * A strict reader of the Prometheus text format 0.0.4: throws on any line that is neither a
 * HELP/TYPE comment nor a sample, on a sample whose family has no TYPE line before it, on a
 * family declared twice and on a value that is not a float.
 */
function parse(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (!METRIC.test(name)) throw new Error(`bad metric name in ${line}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest) || types.has(name)) throw new Error(`bad or repeated TYPE line ${line}`);
        types.set(name, rest);
      }
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample: ${line}`);
    const [, name, labelText = '', valueText] = sample;
    const family = [...types].find(([base, type]) => SUFFIXES[type].some((suffix) => base + suffix === name));
    if (!family) throw new Error(`sample ${name} has no TYPE line before it`);
    const labels: Record<string, string> = {};
    for (let rest = labelText; rest !== ''; ) {
      const label = LABEL.exec(rest);
      if (!label) throw new Error(`bad labels in ${line}`);
      labels[label[1]] = label[2];
      rest = rest.slice(label[0].length);
    }
    const value = valueText === 'NaN' ? Number.NaN : valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value in ${line}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(app: ReturnType<typeof createApp>, key?: string) {
  const res = await app.request('/metrics', { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, samples: res.status === 200 ? parse(text) : [] };
}

const RECS = '/v1/users/:userId/recommendations';

describe('GET /metrics over HTTP (fake engine)', () => {
  it('serves the Prometheus text format, every sample under a declared family', async () => {
    const { app } = setup();
    await app.request('/health');
    const { status, contentType, text, samples } = await scrape(app);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4(;|$)/);
    expect(samples.length).toBeGreaterThan(20);
    expect(text).toMatch(/^# HELP liverec_http_requests_total /m);
    expect(text).toMatch(/^# TYPE liverec_http_request_duration_seconds histogram$/m);
    // Every family is ours (nothing leaks in from prom-client's global registry), plus process memory.
    const PROCESS = ['process_resident_memory_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'];
    for (const s of samples) expect(s.name.startsWith('liverec_') || PROCESS.includes(s.name), s.name).toBe(true);
  });

  it('reports the process memory as process.memoryUsage() reads it', async () => {
    const { app } = setup();
    const before = process.memoryUsage();
    const { samples } = await scrape(app);
    const after = process.memoryUsage();
    const rss = valueOf(samples, 'process_resident_memory_bytes')!;
    const used = valueOf(samples, 'nodejs_heap_size_used_bytes')!;
    expect(rss).toBeGreaterThan(0);
    // Read during the scrape: within what the process held just before and just after, give or take a collection.
    expect(rss).toBeGreaterThanOrEqual(Math.min(before.rss, after.rss) * 0.5);
    expect(rss).toBeLessThanOrEqual(Math.max(before.rss, after.rss) * 1.5);
    expect(used).toBeLessThanOrEqual(valueOf(samples, 'nodejs_heap_size_total_bytes')!);
  });

  it('counts N requests under the matched route pattern, never the raw path with its user ids', async () => {
    const { app } = setup();
    for (const user of ['alice-7f3a', 'alice-7f3a', 'bob-91c2', 'carol-0d44']) await app.request(`/v1/users/${user}/recommendations?n=2`);
    await app.request('/v1/users/dave-55e1/profile');
    const { text, samples } = await scrape(app);
    const labels = { route: RECS, method: 'GET', status: '200' };
    expect(valueOf(samples, 'liverec_http_requests_total', labels)).toBe(4);
    expect(valueOf(samples, 'liverec_http_request_duration_seconds_count', labels)).toBe(4);
    expect(valueOf(samples, 'liverec_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4);
    // An unknown user: the fake's profile() answers 404, still under the route's pattern.
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/users/:userId/profile', status: '404' })).toBe(1);
    for (const id of ['alice', 'bob', 'carol', 'dave']) expect(text).not.toContain(id);
  });

  it('labels method and status, and keeps the pattern for 400s, 404s and 401s from middleware', async () => {
    const { app } = setup({ apiKey: 'k' });
    await app.request('/v1/popular?n=0');
    await app.request('/v1/items/missing-item-42', { method: 'GET' });
    await app.request('/v1/items/item-9', { method: 'DELETE' });
    await app.request('/v1/items/item-9', { method: 'HEAD' });
    const { text, samples } = await scrape(app);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/popular', method: 'GET', status: '400' })).toBe(1);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/items/:itemId', method: 'GET', status: '404' })).toBe(1);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/items/:itemId', method: 'DELETE', status: '401' })).toBe(1);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/items/:itemId', method: 'HEAD', status: '404' })).toBe(1);
    expect(text).not.toMatch(/missing-item-42|item-9/);
  });

  it('puts every path that matches no route under the one label "unmatched"', async () => {
    const { app } = setup();
    await app.request('/nowhere/user-123');
    await app.request('/v1/users/user-456/nothing-here');
    await app.request('/v1/users/user-789/recommendations', { method: 'PATCH' });
    await app.request('/v1/popular', { method: 'BREW' });
    const { text, samples } = await scrape(app);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(2);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: 'unmatched', method: 'PATCH', status: '404' })).toBe(1);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: 'unmatched', method: 'other', status: '404' })).toBe(1);
    expect(text).not.toMatch(/user-\d|nowhere|nothing-here|BREW/);
  });

  it('needs the read key or the api key when a read key is set', async () => {
    const { app, engine } = setup({ readKey: 'reader', apiKey: 'writer' });
    const none = await scrape(app);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).error.code).toBe('unauthorized');
    expect((await scrape(app, 'wrong')).status).toBe(401);
    expect(engine.calls.filter((c) => c.method === 'metrics')).toHaveLength(0);
    expect((await scrape(app, 'reader')).status).toBe(200);
    expect((await scrape(app, 'writer')).status).toBe(200);
  });

  it('is open without a read key, even when writes need an api key', async () => {
    const { app } = setup({ apiKey: 'writer' });
    expect((await scrape(app)).status).toBe(200);
  });

  it('copies the engine snapshot into gauges, one engine call per scrape', async () => {
    const { app, engine } = setup();
    await engine.upsertItems([{ itemId: 'i1' }, { itemId: 'i2' }]);
    const { samples } = await scrape(app);
    expect(engine.calls.filter((c) => c.method === 'metrics')).toHaveLength(1);
    expect(valueOf(samples, 'liverec_model_version')).toBe(3);
    expect(valueOf(samples, 'liverec_model_age_seconds')).toBe(3600);
    expect(valueOf(samples, 'liverec_model_training_in_progress')).toBe(0);
    expect(valueOf(samples, 'liverec_model_training_progress')).toBeUndefined(); // no retrain runs
    expect(valueOf(samples, 'liverec_catalog_items')).toBe(2);
    expect(valueOf(samples, 'liverec_feedback_rows')).toBe(42);
    expect(valueOf(samples, 'liverec_quarantined_users')).toBe(1);
    expect(valueOf(samples, 'liverec_list_cache_items')).toBe(20);
    expect(valueOf(samples, 'liverec_list_cache_reads_total', { outcome: 'hit' })).toBe(5);
    expect(valueOf(samples, 'liverec_list_cache_reads_total', { outcome: 'miss' })).toBe(2);
    expect(valueOf(samples, 'liverec_db_size_bytes')).toBeUndefined();
    // Counted, not re-added: a second scrape of the same snapshot shows the same totals.
    expect(valueOf((await scrape(app)).samples, 'liverec_list_cache_reads_total', { outcome: 'hit' })).toBe(5);
  });

  it('turns engine observations into counters and histograms', async () => {
    const { app, engine } = setup();
    expect(engine.observers.size).toBe(1);
    for (const o of engine.observers) {
      o.feedback?.('view', 3, 1);
      o.feedback?.('purchase', 5, 2);
      o.foldIn?.(0.002);
      o.foldIn?.(0.004);
      o.training?.('success', 12);
      o.training?.('failure', 3);
      o.training?.('failure', 4);
    }
    const { samples } = await scrape(app);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'view', outcome: 'accepted' })).toBe(3);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'view', outcome: 'duplicate' })).toBe(1);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'purchase', outcome: 'accepted' })).toBe(5);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'purchase', outcome: 'duplicate' })).toBe(2);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'click', outcome: 'accepted' })).toBe(0);
    expect(valueOf(samples, 'liverec_feedback_fold_in_duration_seconds_count')).toBe(2);
    expect(valueOf(samples, 'liverec_feedback_fold_in_duration_seconds_sum')).toBeCloseTo(0.006, 9);
    expect(valueOf(samples, 'liverec_feedback_fold_in_duration_seconds_bucket', { le: '0.0025' })).toBe(1);
    expect(valueOf(samples, 'liverec_model_training_runs_total', { outcome: 'success' })).toBe(1);
    expect(valueOf(samples, 'liverec_model_training_runs_total', { outcome: 'failure' })).toBe(2);
    expect(valueOf(samples, 'liverec_model_training_duration_seconds_sum', { outcome: 'failure' })).toBe(7);
  });

  it('keeps two apps apart: each has its own registry', async () => {
    const first = setup();
    const second = setup();
    for (let i = 0; i < 3; i++) await first.app.request('/health');
    await second.app.request('/health');
    const labels = { route: '/health', method: 'GET', status: '200' };
    expect(valueOf((await scrape(first.app)).samples, 'liverec_http_requests_total', labels)).toBe(3);
    expect(valueOf((await scrape(second.app)).samples, 'liverec_http_requests_total', labels)).toBe(1);
  });

  it('can be turned off: no route, no engine subscription', async () => {
    const { app, engine } = setup({ metrics: false });
    expect((await app.request('/metrics')).status).toBe(404);
    expect(engine.observers.size).toBe(0);
  });

  it('leaves the access log as it was, scrapes included: one JSON line carrying the request id', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    const { app } = setup({ log: true });
    const res = await app.request('/metrics', { headers: { 'x-request-id': 'scrape-1' } });
    vi.restoreAllMocks();
    expect(res.status).toBe(200);
    expect(out.map((line) => JSON.parse(line))).toMatchObject([{ requestId: 'scrape-1', method: 'GET', path: '/metrics', status: 200 }]);
  });
});

describe('GET /metrics over the real engine', () => {
  const KEY = 'metrics-secret';
  let dir: string;
  let dbPath: string;
  let store: SqliteStore;
  let engine: Engine;
  let clock: number;
  let app: ReturnType<typeof createApp>;

  function open(options: AppOptions = {}) {
    app = createApp(engine, { apiKey: KEY, now: () => clock, metrics: { dbPath }, ...options });
  }

  async function post(path: string, json: unknown) {
    const res = await app.request(path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
    return { status: res.status, body: await res.json() };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liverec-metrics-'));
    dbPath = join(dir, 'liverec.db');
    store = SqliteStore.open(dbPath);
    clock = T0 + 86_400_000;
    engine = await Engine.open(store, { params: SHOP_PARAMS, retrainEvery: 0, retrainMinutes: 0 }, () => clock);
    open();
  });

  afterEach(async () => {
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts accepted feedback by type, and duplicates, with one fold-in timing per stored live event', async () => {
    expect((await post('/v1/items', SHOP_ITEMS)).status).toBe(200);
    const click = (itemId: string) => ({ userId: 'm1', itemId, type: 'click', timestamp: T0 + 1000 });
    expect((await post('/v1/feedback', click('h1'))).body.accepted).toBe(1);
    expect((await post('/v1/feedback', click('h2'))).body.accepted).toBe(1);
    expect((await post('/v1/feedback', { userId: 'm1', itemId: 'h3', type: 'purchase', timestamp: T0 + 2000 })).body.accepted).toBe(1);
    expect((await post('/v1/feedback', click('h1'))).body).toMatchObject({ accepted: 0, duplicates: 1 });

    const { samples } = await scrape(app);
    const events = (type: string, outcome: string) => valueOf(samples, 'liverec_feedback_events_total', { type, outcome });
    expect(events('click', 'accepted')).toBe(2);
    expect(events('purchase', 'accepted')).toBe(1);
    expect(events('click', 'duplicate')).toBe(1);
    expect(events('purchase', 'duplicate')).toBe(0);
    expect(events('view', 'accepted')).toBe(0);
    expect(valueOf(samples, 'liverec_feedback_fold_in_duration_seconds_count')).toBe(3);
    expect(valueOf(samples, 'liverec_feedback_rows')).toBe(3);
    expect(valueOf(samples, 'liverec_catalog_items')).toBe(20);
    expect(valueOf(samples, 'liverec_http_requests_total', { route: '/v1/feedback', method: 'POST', status: '200' })).toBe(4);
  });

  it('splits an import by type, duplicates included', async () => {
    await post('/v1/items', SHOP_ITEMS);
    const event = (type: string, itemId: string) => ({ userId: 'm2', itemId, type, timestamp: T0 });
    expect((await post('/v1/feedback', [event('view', 'h1'), event('view', 'h2'), event('cart', 'h1')])).body).toEqual({ accepted: 3, duplicates: 0 });
    expect((await post('/v1/feedback', [event('view', 'h1'), event('like', 'h4')])).body).toEqual({ accepted: 1, duplicates: 1 });
    const { samples } = await scrape(app);
    const events = (type: string, outcome: string) => valueOf(samples, 'liverec_feedback_events_total', { type, outcome });
    expect(events('view', 'accepted')).toBe(2);
    expect(events('view', 'duplicate')).toBe(1);
    expect(events('cart', 'accepted')).toBe(1);
    expect(events('like', 'accepted')).toBe(1);
    expect(events('like', 'duplicate')).toBe(0);
    // Imports fold nobody in during the request.
    expect(valueOf(samples, 'liverec_feedback_fold_in_duration_seconds_count')).toBe(0);
  });

  it('reports the model version GET /v1/model shows, its age by the engine clock, and the training run', async () => {
    const before = await scrape(app);
    expect(valueOf(before.samples, 'liverec_model_version')).toBe(0);
    expect(valueOf(before.samples, 'liverec_model_age_seconds')).toBeUndefined();
    await post('/v1/items', SHOP_ITEMS);
    await post('/v1/feedback', shopFeedback());
    await engine.trainNow();
    clock += 90_000;

    const model = await (await app.request('/v1/model')).json();
    expect(model.version).toBe(1);
    const { samples } = await scrape(app);
    expect(valueOf(samples, 'liverec_model_version')).toBe(model.version);
    expect(valueOf(samples, 'liverec_model_age_seconds')).toBe(90);
    expect(valueOf(samples, 'liverec_model_training_in_progress')).toBe(0);
    expect(valueOf(samples, 'liverec_model_training_runs_total', { outcome: 'success' })).toBe(1);
    expect(valueOf(samples, 'liverec_model_training_runs_total', { outcome: 'failure' })).toBe(0);
    expect(valueOf(samples, 'liverec_model_training_duration_seconds_count', { outcome: 'success' })).toBe(1);
    expect(valueOf(samples, 'liverec_model_training_duration_seconds_sum', { outcome: 'success' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'liverec_feedback_events_total', { type: 'purchase', outcome: 'accepted' })).toBe(216);
    expect(valueOf(samples, 'liverec_quarantined_users')).toBe(0);
  });

  it('reports the database file plus its write-ahead log in bytes, and nothing without dbPath', async () => {
    await post('/v1/items', SHOP_ITEMS);
    await post('/v1/feedback', shopFeedback());
    const { samples } = await scrape(app);
    const expected = statSync(dbPath).size + statSync(`${dbPath}-wal`).size;
    expect(statSync(`${dbPath}-wal`).size).toBeGreaterThan(0);
    expect(valueOf(samples, 'liverec_db_size_bytes')).toBe(expected);
    open({ metrics: true });
    expect(valueOf((await scrape(app)).samples, 'liverec_db_size_bytes')).toBeUndefined();
  });

  it('counts quarantined users', async () => {
    await post('/v1/items', SHOP_ITEMS);
    const rate = engine.config.floodEventsPerSecond * engine.config.floodWindowSeconds;
    const flood = Array.from({ length: rate + 5 }, (_, i) => ({ userId: 'bot', itemId: `h${i % 10}`, type: 'view', timestamp: T0 + i }));
    // A backfill array is history, never a flood; the same events posted live one by one are.
    await post('/v1/feedback', flood.map((e) => ({ ...e, userId: 'backfilled' })));
    expect((await engine.stats()).quarantinedUsers).toBe(0);
    await Promise.all(flood.map((e) => post('/v1/feedback', e)));
    expect((await engine.stats()).quarantinedUsers).toBe(1);
    expect(valueOf((await scrape(app)).samples, 'liverec_quarantined_users')).toBe(1);
  });

  it("counts reads of a user's list answered from the cache and ranked; a cold user's read is neither", async () => {
    await post('/v1/items', SHOP_ITEMS);
    await post('/v1/feedback', shopFeedback());
    await engine.trainNow();
    for (const user of ['hu1', 'hu1', 'stranger']) expect((await app.request(`/v1/users/${user}/recommendations?n=5`)).status).toBe(200);
    const { samples } = await scrape(app);
    expect(valueOf(samples, 'liverec_list_cache_reads_total', { outcome: 'miss' })).toBe(1);
    expect(valueOf(samples, 'liverec_list_cache_reads_total', { outcome: 'hit' })).toBe(1);
    expect(valueOf(samples, 'liverec_list_cache_items')).toBe(5);
  });

  it('needs a key when a read key is set', async () => {
    open({ readKey: 'reader' });
    expect((await scrape(app)).status).toBe(401);
    expect((await scrape(app, 'reader')).status).toBe(200);
  });

  it('goes on storing feedback when an observer throws', async () => {
    await post('/v1/items', SHOP_ITEMS);
    engine.observe({ feedback: () => { throw new Error('broken exporter'); }, foldIn: () => { throw new Error('broken exporter'); } });
    const res = await post('/v1/feedback', { userId: 'm3', itemId: 'h1', type: 'view', timestamp: T0 });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(valueOf((await scrape(app)).samples, 'liverec_feedback_events_total', { type: 'view', outcome: 'accepted' })).toBe(1);
  });
});

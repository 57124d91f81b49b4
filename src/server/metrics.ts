/**
 * Operator metrics: `GET /metrics` in the Prometheus text format, from one prom-client Registry
 * per app (never the library's global one, so two apps in one process keep their counts apart).
 * HTTP requests are counted and timed here, by the route pattern they matched; the engine's work
 * arrives through its library-agnostic EngineObserver hooks and its metrics() snapshot.
 */
import { statSync } from 'node:fs';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineApi } from '../engine/types.ts';
import { FEEDBACK_TYPES } from '../store/types.ts';
import type { AppEnv } from './app.ts';
import { requireKeys } from './middleware.ts';

export interface MetricsOptions {
  /** The SQLite file: its size plus its -wal's is exported as liverec_db_size_bytes. Without it that gauge is absent. */
  dbPath?: string;
}

/** The route label of a request that matched no route: raw paths would let clients mint series. */
export const UNMATCHED = 'unmatched';

// Anything else is labelled "other", so odd methods cannot mint series either.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FOLD_IN_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const TRAINING_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const OUTCOMES = ['success', 'failure', 'skipped'] as const;

/**
 * The pattern of the route that answered, e.g. `/v1/users/:userId/recommendations`, or of the one
 * that would have when middleware answered first (a 401, 413 or 429). Middleware is registered
 * with `use`, under the method ALL; the route groups register none, so every other entry is a route.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  const current = routes[c.req.routeIndex];
  if (current && current.method !== 'ALL') return current.path;
  return routes.find((r) => r.method !== 'ALL')?.path ?? UNMATCHED;
}

type EngineGauge = 'modelVersion' | 'modelAge' | 'training' | 'trainingProgress' | 'items' | 'feedback' | 'quarantined' | 'listCacheItems';

export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method' | 'status'>;
  private readonly gauges: Record<EngineGauge, Gauge>;
  private readonly listReads: Counter<'outcome'>;
  /** The engine's counts at the last scrape: the counter grows by the difference. */
  private listCounts = { hits: 0, misses: 0 };

  constructor(
    private readonly engine: EngineApi,
    options: MetricsOptions = {},
  ) {
    const registers = [this.registry];
    const labelNames = ['route', 'method', 'status'] as const;
    this.requests = new Counter({
      name: 'liverec_http_requests_total', labelNames, registers,
      help: 'HTTP requests answered, by matched route pattern, method and status code.',
    });
    this.latency = new Histogram({
      name: 'liverec_http_request_duration_seconds', labelNames, registers, buckets: HTTP_BUCKETS,
      help: 'Time to answer HTTP requests, by matched route pattern, method and status code.',
    });
    observeEngine(engine, registers);
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.gauges = {
      modelVersion: gauge('liverec_model_version', 'Version of the serving model; 0 before the first retrain.'),
      modelAge: gauge('liverec_model_age_seconds', 'Seconds since the serving model was trained; absent without one.'),
      training: gauge('liverec_model_training_in_progress', '1 while a retrain runs, else 0.'),
      trainingProgress: gauge('liverec_model_training_progress', "Share of the running retrain's fit done, 0 to 1; absent while none runs."),
      items: gauge('liverec_catalog_items', 'Items in the catalog, unavailable ones included.'),
      feedback: gauge('liverec_feedback_rows', 'Feedback rows stored.'),
      quarantined: gauge('liverec_quarantined_users', 'Users whose events are stored but not learned from (flagged as floods).'),
      listCacheItems: gauge('liverec_list_cache_items', "Items held in the cached ranked lists, over all users."),
    };
    this.listReads = new Counter({
      name: 'liverec_list_cache_reads_total', labelNames: ['outcome'] as const, registers,
      help: "Reads of a user's personal list: outcome \"hit\" (answered from the cached list) or \"miss\" (ranked).",
    });
    for (const outcome of ['hit', 'miss']) this.listReads.inc({ outcome }, 0);
    processMemory(registers);
    const { dbPath } = options;
    if (dbPath !== undefined) {
      new Gauge({
        name: 'liverec_db_size_bytes', registers,
        help: 'Bytes on disk of the SQLite database file plus its write-ahead log.',
        collect() {
          this.set(fileBytes(dbPath) + fileBytes(`${dbPath}-wal`));
        },
      });
    }
  }

  /** Counts and times every request; mount it outermost so 401s, 404s and 429s are seen too. */
  track(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const start = performance.now();
      await next();
      const labels = { route: routeLabel(c), method: METHODS.has(c.req.method) ? c.req.method : 'other', status: String(c.res.status) };
      this.requests.inc(labels);
      this.latency.observe(labels, (performance.now() - start) / 1000);
    };
  }

  /** `GET /metrics`, guarded like the other reads: a key is needed only when `readKey` is set. */
  routes(keys: { apiKey?: string; readKey?: string }): Hono<AppEnv> {
    const app = new Hono<AppEnv>();
    app.use('/metrics', requireKeys(keys));
    app.get('/metrics', async (c) => {
      await this.readEngine();
      return c.body(await this.registry.metrics(), 200, { 'Content-Type': this.registry.contentType });
    });
    return app;
  }

  /** One engine snapshot per scrape (it counts the feedback table), copied into the gauges. */
  private async readEngine(): Promise<void> {
    const { model, items, feedback, quarantinedUsers, listCache } = await this.engine.metrics();
    const g = this.gauges;
    g.modelVersion.set(model.version ?? 0);
    // No model, no age: the sample is left out rather than faked as 0 (fresh) or NaN.
    if (model.ageSeconds === null) g.modelAge.remove();
    else g.modelAge.set(model.ageSeconds);
    g.training.set(model.training ? 1 : 0);
    if (model.trainingProgress === null) g.trainingProgress.remove();
    else g.trainingProgress.set(model.trainingProgress);
    g.items.set(items);
    g.feedback.set(feedback);
    g.quarantined.set(quarantinedUsers);
    g.listCacheItems.set(listCache.items);
    this.listReads.inc({ outcome: 'hit' }, listCache.hits - this.listCounts.hits);
    this.listReads.inc({ outcome: 'miss' }, listCache.misses - this.listCounts.misses);
    this.listCounts = listCache;
  }
}

/**
 * The process's memory, read at each scrape, under the names prom-client's default collectors
 * use (so existing Node dashboards work). Read on demand rather than with those collectors,
 * which start event-loop and GC monitors per registry that nothing stops.
 */
function processMemory(registers: Registry[]): void {
  const gauges: Array<[string, string, (m: NodeJS.MemoryUsage) => number]> = [
    ['process_resident_memory_bytes', 'Resident memory size in bytes.', (m) => m.rss],
    ['nodejs_heap_size_total_bytes', 'JavaScript heap reserved by V8, in bytes.', (m) => m.heapTotal],
    ['nodejs_heap_size_used_bytes', 'JavaScript heap in use (live and not yet collected), in bytes.', (m) => m.heapUsed],
    ['nodejs_external_memory_bytes', 'Memory outside the JavaScript heap held by JavaScript objects (WebAssembly memories included), in bytes.', (m) => m.external],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({ name, help, registers, collect() { this.set(read(process.memoryUsage())); } });
  }
}

/** Counters and histograms fed by the engine's observer hooks as it works. */
function observeEngine(engine: EngineApi, registers: Registry[]): void {
  const events = new Counter({
    name: 'liverec_feedback_events_total', labelNames: ['type', 'outcome'] as const, registers,
    help: 'Feedback events by type; outcome "accepted" (stored) or "duplicate" (an exact repeat).',
  });
  const foldIn = new Histogram({
    name: 'liverec_feedback_fold_in_duration_seconds', registers, buckets: FOLD_IN_BUCKETS,
    help: 'Time a live feedback post spends after its commit: folding the user in and ranking the new top-N.',
  });
  const runs = new Counter({
    name: 'liverec_model_training_runs_total', labelNames: ['outcome'] as const, registers,
    help: 'Retrains finished, by outcome.',
  });
  const trainingTime = new Histogram({
    name: 'liverec_model_training_duration_seconds', labelNames: ['outcome'] as const, registers, buckets: TRAINING_BUCKETS,
    help: "Time from a retrain's start until its model served (or it failed), by outcome.",
  });
  // Zeros from the start, so rate() and increase() see a series before its first event.
  for (const type of FEEDBACK_TYPES) for (const outcome of ['accepted', 'duplicate']) events.inc({ type, outcome }, 0);
  for (const outcome of OUTCOMES) runs.inc({ outcome }, 0);
  engine.observe({
    feedback: (type, accepted, duplicates) => {
      events.inc({ type, outcome: 'accepted' }, accepted);
      events.inc({ type, outcome: 'duplicate' }, duplicates);
    },
    foldIn: (seconds) => foldIn.observe(seconds),
    training: (outcome, seconds) => {
      runs.inc({ outcome });
      trainingTime.observe({ outcome }, seconds);
    },
  });
}

/** 0 for a file that does not exist (no WAL yet, or an in-memory database). */
function fileBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

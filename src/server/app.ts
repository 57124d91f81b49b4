import { Hono } from 'hono';
import type { EngineApi } from '../engine/types.ts';
import { corsPolicy, type CorsOptions } from './cors.ts';
import { errorHandler, onNotFound } from './errors.ts';
import { accessLog } from './log.ts';
import { AppMetrics, type MetricsOptions } from './metrics.ts';
import { readBody, requireKeys } from './middleware.ts';
import { clientIdentity, rateLimit, TokenBuckets, type RateLimitOptions } from './rate-limit.ts';
import { requestId } from './request-id.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { itemRoutes } from './routes/items.ts';
import { miscRoutes } from './routes/misc.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { docsRoutes } from './routes/docs.ts';
import { insightRoutes, modelRoutes } from './routes/model.ts';
import { userRoutes } from './routes/users.ts';
import { securityHeaders } from './security.ts';

/** Per-request values set by middleware (see middleware.ts, request-id.ts). */
export interface AppEnv {
  Variables: {
    /** The request body's bytes; unset for GET/HEAD and bodiless requests. */
    rawBody?: Uint8Array;
    /** Echoed as X-Request-Id, logged, and quoted in 500 bodies. */
    requestId: string;
  };
}

/** What every route group is built from. */
export interface RouteDeps {
  engine: EngineApi;
  /** Epoch milliseconds; injected so timestamp defaults and the future-time rule are testable. */
  now: () => number;
}

/** Keys, limits, CORS, logging and metrics of one app; every field is optional. */
export interface AppOptions {
  /** When set, POST/PUT/DELETE under /v1 need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** When set, GETs under /v1 need this key (or apiKey). /health stays open. */
  readKey?: string;
  /** Larger request bodies get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Clock in epoch ms, for feedback timestamps and rate-limit refills. Default Date.now. */
  now?: () => number;
  /** Lets browsers on these origins call the API. Default off: no CORS headers, OPTIONS is 404. */
  cors?: CorsOptions;
  /** Token bucket per API key, or per client IP without one; /health is exempt. Default off. */
  rateLimit?: RateLimitOptions;
  /** One JSON line per request on stdout, internal errors as JSON on stderr. Default false. */
  log?: boolean;
  /** GET /metrics (Prometheus text format), guarded like reads. Default on; false turns it off. */
  metrics?: boolean | MetricsOptions;
}

const DEFAULTS = {
  maxBodyBytes: 4 * 1024 * 1024,
  now: Date.now,
  log: false,
  metrics: true,
} satisfies AppOptions;

/** Builds the HTTP API over `engine`. Never listens: see listen.ts, or call `app.request` in tests. */
export function createApp(engine: EngineApi, options: AppOptions = {}): Hono<AppEnv> {
  const config = { ...DEFAULTS, ...withoutUndefined(options) };
  const { maxBodyBytes } = config;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new Error(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }
  const deps: RouteDeps = { engine, now: config.now };
  const app = new Hono<AppEnv>();

  app.onError(errorHandler({ log: config.log }));
  app.notFound(onNotFound);

  // Outermost first: the id and the log see every response, including preflights, 401s and 429s.
  app.use('*', requestId());
  const metrics = config.metrics === false ? null : new AppMetrics(engine, config.metrics === true ? {} : config.metrics);
  if (metrics) app.use('*', metrics.track());
  if (config.log) app.use('*', accessLog());
  app.use('*', securityHeaders());
  if (config.cors) app.use('*', corsPolicy(config.cors));
  // Before the key check, so guessing keys is throttled too.
  if (config.rateLimit) {
    const buckets = new TokenBuckets(config.rateLimit, config.now);
    app.use('*', rateLimit(buckets, clientIdentity([config.apiKey, config.readKey])));
  }
  // Auth before the body is read, so unauthenticated clients cannot make the server buffer
  // megabytes; node-server discards the unread body after the 401 is sent.
  app.use('/v1/*', requireKeys({ apiKey: config.apiKey, readKey: config.readKey }));
  app.use('/v1/*', readBody(maxBodyBytes));

  if (metrics) app.route('/', metrics.routes({ apiKey: config.apiKey, readKey: config.readKey }));
  app.route('/', miscRoutes(deps));
  app.route('/v1/items', itemRoutes(deps));
  app.route('/v1/feedback', feedbackRoutes(deps));
  app.route('/v1/users', userRoutes(deps));
  app.route('/v1/model', modelRoutes(deps));
  app.route('/v1', insightRoutes(deps));
  app.route('/', dashboardRoutes({ readKey: config.readKey, apiKey: config.apiKey }));
  app.route('/', docsRoutes());
  return app;
}

/** `{ now: undefined }` must mean "the default", as it did before options were spread over defaults. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

import { Hono } from 'hono';
import type { EngineApi } from '../engine/types.ts';
import { onError, onNotFound } from './errors.ts';
import { readBody, requireKeys } from './middleware.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { itemRoutes } from './routes/items.ts';
import { miscRoutes } from './routes/misc.ts';
import { modelRoutes } from './routes/model.ts';
import { userRoutes } from './routes/users.ts';

/** Per-request values set by middleware (see middleware.ts). */
export interface AppEnv {
  Variables: {
    /** The request body's bytes; unset for GET/HEAD and bodiless requests. */
    rawBody?: Uint8Array;
  };
}

/** What every route group is built from. */
export interface RouteDeps {
  engine: EngineApi;
  /** Epoch milliseconds; injected so timestamp defaults and the future-time rule are testable. */
  now: () => number;
}

export interface AppOptions {
  /** When set, POST/PUT/DELETE under /v1 need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** When set, GETs under /v1 need this key (or apiKey). /health stays open. */
  readKey?: string;
  /** Larger request bodies get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Clock in epoch ms, for feedback timestamps. Default Date.now. */
  now?: () => number;
}

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Builds the HTTP API over `engine`. Never listens: see listen.ts, or call `app.request` in tests. */
export function createApp(engine: EngineApi, options: AppOptions = {}): Hono<AppEnv> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new Error(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }
  const deps: RouteDeps = { engine, now: options.now ?? Date.now };
  const app = new Hono<AppEnv>();

  app.onError(onError);
  app.notFound(onNotFound);

  // Auth before the body is read, so unauthenticated clients cannot make the server buffer
  // megabytes; node-server discards the unread body after the 401 is sent.
  app.use('/v1/*', requireKeys({ apiKey: options.apiKey, readKey: options.readKey }));
  app.use('/v1/*', readBody(maxBodyBytes));

  app.route('/', miscRoutes(deps));
  app.route('/v1/items', itemRoutes(deps));
  app.route('/v1/feedback', feedbackRoutes(deps));
  app.route('/v1/users', userRoutes(deps));
  app.route('/v1/model', modelRoutes(deps));
  return app;
}

import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app.ts';

/**
 * An incoming id is honoured only when it is short and plain, because it is echoed in a header,
 * written to logs and quoted in 500 bodies: anything else could inject log lines or bloat them.
 */
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when sane, else a fresh UUID), stores it
 * as `requestId` for the log and the error handler, and returns it as X-Request-Id on every
 * response, errors included, so a client report can be matched to a log line.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id = incoming !== undefined && SANE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    await next();
    // On the response's headers, not c.header(): that rebuilds a finished response around a
    // body stream, which costs more than the rest of a cached read (the same for every header
    // set after next()).
    c.res.headers.set('X-Request-Id', id);
  };
}

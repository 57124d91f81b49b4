import { randomUUID } from 'node:crypto';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InvalidInputError, UnknownIdError } from '../errors.ts';
import { NotFoundError, StoreUnavailableError } from '../store/errors.ts';
import type { AppEnv } from './app.ts';
import { logLine } from './log.ts';

/**
 * The one place where errors become HTTP responses. Routes and middleware only throw; the
 * wire shape `{ error: { code, message, field } }` is a contract frontends parse.
 */

/** The request body is larger than the configured limit. */
export class PayloadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body must be at most ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/** No API key, or the wrong one, for a route that requires one. */
export class UnauthorizedError extends Error {
  constructor() {
    super('this route requires an API key: send the header Authorization: Bearer <key>');
    this.name = 'UnauthorizedError';
  }
}

/** The client spent its token bucket; `retryAfter` is whole seconds until a request would pass. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfter: number) {
    super(`too many requests: slow down and retry after ${retryAfter} s`);
    this.name = 'RateLimitedError';
  }
}

interface ErrorBody {
  code: string;
  message: string;
  field: string | null;
  requestId?: string;
}

function send(c: Context, status: ContentfulStatusCode, error: ErrorBody): Response {
  return c.json({ error }, status);
}

/**
 * `log`: when true, an internal error is one JSON line on stderr (with the stack), matching the
 * structured request log; otherwise a human-readable console.error.
 */
export function errorHandler(options: { log: boolean }): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof InvalidInputError) {
      return send(c, 400, { code: 'invalid_input', message: err.message, field: err.field ?? null });
    }
    if (err instanceof NotFoundError) {
      return send(c, 404, { code: 'not_found', message: err.message, field: err.field });
    }
    // The model layer names ids by kind; frontends see the same field names as everywhere else.
    if (err instanceof UnknownIdError) {
      return send(c, 404, { code: 'not_found', message: err.message, field: `${err.kind}Id` });
    }
    if (err instanceof UnauthorizedError) {
      c.header('WWW-Authenticate', 'Bearer');
      return send(c, 401, { code: 'unauthorized', message: err.message, field: null });
    }
    if (err instanceof PayloadTooLargeError) {
      return send(c, 413, { code: 'payload_too_large', message: err.message, field: null });
    }
    if (err instanceof RateLimitedError) {
      c.header('Retry-After', String(err.retryAfter));
      return send(c, 429, { code: 'rate_limited', message: err.message, field: null });
    }
    // The store words these messages itself, without SQL, so they are safe to pass on.
    if (err instanceof StoreUnavailableError) {
      return send(c, 503, { code: 'unavailable', message: err.message, field: null });
    }
    // Anything else is a bug: the client gets the request id to quote, the log gets the stack
    // under the same id. The message stays generic because it may carry SQL, file paths or user data.
    const requestId = c.get('requestId') ?? randomUUID();
    if (options.log) {
      logLine('stderr', {
        time: new Date().toISOString(),
        level: 'error',
        requestId,
        method: c.req.method,
        path: c.req.path,
        error: err.name,
        message: err.message,
        stack: err.stack,
      });
    } else {
      console.error(`liverec: internal error ${requestId} on ${c.req.method} ${c.req.path}`, err);
    }
    return send(c, 500, {
      code: 'internal',
      message: `internal server error; quote requestId ${requestId} when reporting it`,
      field: null,
      requestId,
    });
  };
}

export const onNotFound: NotFoundHandler = (c) =>
  send(c, 404, { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}`, field: null });

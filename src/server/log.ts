/**
 * Structured logs: one JSON object per line, so log shippers need no multi-line parsing and a
 * stack trace cannot be split across records. Request lines go to stdout, internal errors to
 * stderr. Callers pass only what they mean to log; headers are never passed, so the
 * Authorization header and API keys cannot leak into the logs.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app.ts';

export function logLine(stream: 'stdout' | 'stderr', entry: Record<string, unknown>): void {
  process[stream].write(`${JSON.stringify(entry)}\n`);
}

/** Logs `{ time, level, requestId, method, path, status, ms }` once per request, after it is answered. */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const time = new Date().toISOString();
    const start = performance.now();
    await next();
    const status = c.res.status;
    logLine('stdout', {
      time,
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      requestId: c.get('requestId'),
      method: c.req.method,
      // The path only: query strings can carry user ids in bulk and are not needed to trace a request.
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - start) * 100) / 100,
    });
  };
}

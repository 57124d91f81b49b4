import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export interface CorsOptions {
  /** Origins allowed to call the API from a browser (`https://shop.example`), or '*' for any. */
  origins: string[] | '*';
}

/**
 * CORS for browser frontends calling the API directly. Preflights are answered here, before the
 * key check and the rate limit, because browsers never send credentials on them. Auth is a
 * bearer header, not cookies, so credentials mode is not needed and '*' stays safe to offer.
 */
export function corsPolicy(options: CorsOptions): MiddlewareHandler {
  const { origins } = options;
  if (origins !== '*') {
    if (!Array.isArray(origins) || origins.length === 0) {
      throw new Error("cors.origins must be '*' or a non-empty array of origins");
    }
    // Browsers send the bare origin; 'https://shop.example/' would silently never match.
    for (const origin of origins) {
      if (!isOrigin(origin)) throw new Error(`cors.origins: '${origin}' is not an origin like https://shop.example`);
    }
  }
  return cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    // Readable by frontend code: the id to quote in bug reports, and how long to back off.
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}

/** A bare http(s) origin, exactly as browsers send it in the Origin header (no path, no trailing slash). */
export function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

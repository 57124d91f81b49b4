import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * Defaults for a JSON API that no browser should render, frame or cache: nosniff (so JSON is
 * never run as script or HTML), framing denied, no Referer sent onwards, a CSP that allows
 * nothing, and Cache-Control: no-store because answers are per user and change with every
 * feedback. A route that sets one of these itself keeps its own (an HTML page needs a CSP that
 * lets its scripts run), hence `overwrite: false`.
 * HSTS is left to the TLS edge: this server cannot tell whether clients reach it over HTTPS.
 */
const headers = secureHeaders({
  xContentTypeOptions: true,
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  strictTransportSecurity: false,
  overwrite: false,
});

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await headers(c, next);
    // Set on the response's headers, not with c.header() (see request-id.ts).
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}

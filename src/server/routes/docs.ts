/**
 * The API's own description: GET /openapi.json (OpenAPI 3.1, generated from the operation table
 * in api.ts) and GET /docs (the same document as an HTML page with one same-origin stylesheet,
 * no script and nothing from a CDN). Both are built once, at app creation, and need no key:
 * they describe the API, not its data.
 *
 * Mounted by the app with `app.route('/', docsRoutes())`.
 */
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { renderDocsPage } from '../docs/page.ts';
import { etagOf, isFresh } from '../etag.ts';
import { buildOpenApi } from '../openapi.ts';

const STYLESHEET = '/docs/assets/docs.css';

/** Only this origin's stylesheet; no script, no framing (replaces the API's `default-src 'none'`). */
const CSP = ["default-src 'none'", "style-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');

interface Asset {
  body: string;
  headers: Record<string, string>;
}

function asset(body: string, type: string, extra: Record<string, string> = {}): Asset {
  // Revalidated on every use, so a deploy shows at once while unchanged answers cost a 304.
  return { body, headers: { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etagOf(body), ...extra } };
}

function serve(c: Context, file: Asset): Response {
  if (isFresh(c.req.header('if-none-match'), file.headers.ETag)) return new Response(null, { status: 304, headers: file.headers });
  return new Response(c.req.method === 'HEAD' ? null : file.body, { status: 200, headers: file.headers });
}

/** Built on first use and shared by every app: the document depends only on the code. */
let built: { spec: Asset; page: Asset; css: Asset } | undefined;

function build() {
  const doc = buildOpenApi();
  return {
    spec: asset(JSON.stringify(doc), 'application/json; charset=utf-8'),
    page: asset(renderDocsPage(doc, STYLESHEET), 'text/html; charset=utf-8', { 'Content-Security-Policy': CSP }),
    css: asset(readFileSync(new URL('../docs/docs.css', import.meta.url), 'utf8'), 'text/css; charset=utf-8', {
      'Content-Security-Policy': CSP,
    }),
  };
}

export function docsRoutes(): Hono {
  const { spec, page, css } = (built ??= build());
  const app = new Hono();
  app.get('/openapi.json', (c) => serve(c, spec));
  app.get('/docs', (c) => serve(c, page));
  app.get('/docs/', (c) => c.redirect('/docs', 301));
  app.get(STYLESHEET, (c) => serve(c, css));
  return app;
}

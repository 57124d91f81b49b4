/**
 * The merchandiser dashboard: a static page (dashboard/ at the repository root) plus the
 * browser build of Chart.js, all read into memory at startup and served from here, so the
 * page works offline and needs no build step. The page itself talks to the /v1 API.
 *
 * Mounted by the app with `app.route('/', dashboardRoutes({ readKey, apiKey }))`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { etagOf, isFresh } from '../etag.ts';

export interface DashboardOptions {
  /** When set, the page and its assets need this key, as the /v1 reads do. */
  readKey?: string;
  /** Also accepted wherever the read key is (as for /v1 reads). */
  apiKey?: string;
  /** Where the page's files live. Default: dashboard/ at the package root. */
  root?: string;
}

interface Asset {
  body: Buffer<ArrayBuffer>;
  type: string;
  etag: string;
}

const DEFAULT_ROOT = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

/** The charting library's self-contained browser build (UMD: defines `window.Chart`). */
const CHART_FILES = ['chart.umd.min.js', 'chart.umd.min.js.map'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Only this origin's scripts, styles and API; nothing inline, no framing. Replaces the API's
 * `default-src 'none'` on these responses (the app's security headers must not overwrite it).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** On every dashboard response (the app's own security headers add the rest). */
const PAGE_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Set after a keyed page load so reloads and the page's own assets need no key in the URL. */
const COOKIE = 'liverec_dashboard';
const BEARER = /^Bearer +(\S+) *$/i;

export function dashboardRoutes(options: DashboardOptions = {}): Hono {
  const assets = loadAssets(options.root ?? DEFAULT_ROOT);
  const page = assets.get('index.html');
  if (!page) throw new Error(`dashboard: ${options.root ?? DEFAULT_ROOT}index.html is missing`);
  assets.delete('index.html');
  const gate = keyGate(options);
  const app = new Hono();

  app.get('/dashboard/', (c) => c.redirect(`/dashboard${new URL(c.req.url).search}`, 301));

  app.get('/dashboard', (c) => {
    const access = gate(c);
    if (access === 'denied') return keyRequired(c.req.query('key') !== undefined);
    // The page keeps a key given in the URL for its API calls; the cookie stands for it towards
    // this page and its assets only (a one-way digest, never the key itself), so reloads work
    // once the page has taken the key out of the address bar.
    const cookie: Record<string, string> = {};
    if (access === 'query' || access === 'bearer') {
      cookie['Set-Cookie'] = `${COOKIE}=${gate.cookieValue}; Path=/dashboard; HttpOnly; SameSite=Strict`;
    }
    return serve(c, page, gate.required, cookie);
  });

  app.get('/dashboard/assets/*', (c) => {
    if (gate(c) === 'denied') {
      return c.json({ error: { code: 'unauthorized', message: 'the dashboard requires the read key: open /dashboard?key=<key>', field: null } }, 401);
    }
    // Looked up by exact name in memory: nothing outside the loaded files can be reached.
    const name = c.req.path.slice('/dashboard/assets/'.length);
    const asset = assets.get(name);
    if (!asset) return c.json({ error: { code: 'not_found', message: `no dashboard asset ${name}`, field: null } }, 404);
    return serve(c, asset, gate.required);
  });

  return app;
}

/** Every file under `root` (by its path relative to it, with '/'), plus the charting library. */
function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of walk(root)) {
    assets.set(relative(root, file).split(sep).join('/'), asset(file));
  }
  const chartDir = dirname(createRequire(import.meta.url).resolve('chart.js'));
  for (const name of CHART_FILES) assets.set(`vendor/${name}`, asset(join(chartDir, name)));
  return assets;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  return { body, type, etag: etagOf(body) };
}

/**
 * Revalidated on every use (`no-cache` + ETag → 304), so a deploy is picked up at once while
 * unchanged files cost a round trip only; `private` when a key guards them.
 */
function serve(c: Context, file: Asset, keyed: boolean, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = {
    ...PAGE_HEADERS,
    'Content-Type': file.type,
    'Cache-Control': keyed ? 'private, no-cache' : 'no-cache',
    ETag: file.etag,
    ...(keyed && { Vary: 'Authorization, Cookie' }),
    ...extra,
  };
  if (isFresh(c.req.header('if-none-match'), file.etag)) return new Response(null, { status: 304, headers });
  return new Response(c.req.method === 'HEAD' ? null : file.body, { status: 200, headers });
}

/** 401 for the page: a form that asks for the key and submits it back as `?key=`. */
function keyRequired(wrongKey: boolean): Response {
  return new Response(deniedPage(wrongKey), {
    status: 401,
    headers: { ...PAGE_HEADERS, 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store', 'WWW-Authenticate': 'Bearer' },
  });
}

type Access = 'open' | 'bearer' | 'query' | 'cookie' | 'denied';

interface Gate {
  (c: Context): Access;
  required: boolean;
  cookieValue: string;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Compares fixed-size digests in constant time, checking every key without short-circuiting. */
function anyEqual(keys: Buffer[], presented: Buffer): boolean {
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(key, presented) || ok;
  return ok;
}

/**
 * Open without a read key (reads are open then, as on /v1). With one, a request passes with
 * `Authorization: Bearer <key>`, `?key=<key>` (read or API key), or the cookie a keyed page
 * load set.
 */
function keyGate(options: DashboardOptions): Gate {
  for (const [name, key] of Object.entries(options)) {
    if (name !== 'root' && key === '') throw new Error(`${name} must be a non-empty string when set`);
  }
  const required = options.readKey !== undefined;
  const keys = [options.readKey, options.apiKey].filter((k): k is string => k !== undefined).map(sha256);
  // One-way and specific to this use, so the cookie cannot be replayed as an API key.
  const cookieValue = required ? sha256(`liverec-dashboard:${options.readKey}`).toString('base64url') : '';
  const cookieDigest = sha256(cookieValue);

  const gate = ((c: Context): Access => {
    if (!required) return 'open';
    const bearer = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer !== undefined && anyEqual(keys, sha256(bearer))) return 'bearer';
    const query = c.req.query('key');
    if (query !== undefined && anyEqual(keys, sha256(query))) return 'query';
    const cookie = readCookie(c.req.header('cookie'), COOKIE);
    if (cookie !== undefined && anyEqual([cookieDigest], sha256(cookie))) return 'cookie';
    return 'denied';
  }) as Gate;
  gate.required = required;
  gate.cookieValue = cookieValue;
  return gate;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** A minimal page asking for the key; it submits back to /dashboard?key=… (no script, no style). */
function deniedPage(wrongKey: boolean): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>liverec dashboard — key required</title></head>
<body>
<main>
<h1>liverec dashboard</h1>
<p>${wrongKey ? 'That key was not accepted.' : 'This server requires its read key.'} Enter it to open the dashboard.</p>
<form method="get" action="/dashboard">
<label for="key">Read key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open</button>
</form>
</main>
</body>
</html>
`;
}

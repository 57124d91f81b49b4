/**
 * The dashboard in a real browser: Debian's Chromium (installed here when missing) driven by
 * playwright-core, against a real server on an ephemeral port over a SQLite store seeded with
 * MovieLens ml-latest-small. Leaves a screenshot in test/artifacts/dashboard.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.ts';
import { importFiles } from '../../src/cli/import.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { dashboardRoutes } from '../../src/server/routes/dashboard.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(ROOT, 'data/ml-latest-small/');
const SCREENSHOT = join(ROOT, 'test/artifacts/dashboard.png');
const API_KEY = 'dashboard-test-write-key';
const READ_KEY = 'dashboard-test-read-key';
const USER = '1';

let dir: string;
let store: SqliteStore;
let engine: Engine;
let server: Listening;
let base: string;
let browser: Browser;
let page: Page;
/** Uncaught page errors and console errors other than the expected 4xx of absent endpoints. */
const problems: string[] = [];

/** CI runs as root with Debian's mirrors reachable; a developer machine may already have it. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const run = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 540_000 });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${run.status}): ${run.stderr || run.error}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after apt-get install chromium`);
}

async function seededServer(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'liverec-dashboard-'));
  store = SqliteStore.open(join(dir, 'shop.db'));
  const quiet = { out() {}, err() {} };
  await importFiles(store, { movies: DATA + 'movies.csv', ratings: DATA + 'ratings.csv' }, quiet);
  // A real offline evaluation recorded the way operators do it, for the evaluation panel.
  const code = await run(['node', 'liverec', 'eval', '--data', DATA + 'ratings.csv', '--split', 'stratified', '--algorithm', 'popular', '--json', '--record', join(dir, 'shop.db')], { writeOut() {}, writeErr() {} });
  if (code !== 0) throw new Error(`liverec eval --record exited with ${code}`);
  engine = await Engine.open(store, { retrainEvery: 0, retrainMinutes: 0 });
  await engine.trainNow();
  // Mounted the way the app does: the API first, the dashboard on the same Hono instance.
  const app = createApp(engine, { apiKey: API_KEY, readKey: READ_KEY });
  app.route('/', dashboardRoutes({ readKey: READ_KEY, apiKey: API_KEY }));
  server = await listen(app, { port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
}

beforeAll(async () => {
  ensureChromium();
  await seededServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A fetch of an endpoint this server does not have yet is logged by Chromium; the panel says so.
    if (/Failed to load resource: the server responded with a status of 404/.test(message.text())) return;
    problems.push(`console: ${message.text()}`);
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const testid = (id: string) => `[data-testid="${id}"]`;
const ids = (p: Page) => p.locator(testid('recommendation')).evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.itemId!));

describe('dashboard routes', () => {
  it('need the read key, by header, query or the cookie a keyed load sets', async () => {
    const denied = await fetch(`${base}/dashboard`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toContain('<form method="get" action="/dashboard">');
    expect((await fetch(`${base}/dashboard/assets/app.js`)).status).toBe(401);

    const page = await fetch(`${base}/dashboard?key=${READ_KEY}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('private, no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = page.headers.get('set-cookie')!.split(';')[0];
    expect(cookie).not.toContain(READ_KEY);

    const script = await fetch(`${base}/dashboard/assets/app.js`, { headers: { cookie } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const again = await fetch(`${base}/dashboard/assets/app.js`, { headers: { cookie, 'if-none-match': script.headers.get('etag')! } });
    expect(again.status).toBe(304);

    const chart = await fetch(`${base}/dashboard/assets/vendor/chart.umd.min.js`, { headers: { authorization: `Bearer ${READ_KEY}` } });
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain('Chart.js v4');
    expect((await fetch(`${base}/dashboard/assets/nope.js`, { headers: { cookie } })).status).toBe(404);
    // The cookie stands for the key towards the dashboard only, never the API.
    const cookieDigest = cookie.split('=')[1];
    expect((await fetch(`${base}/v1/model`, { headers: { authorization: `Bearer ${cookieDigest}` } })).status).toBe(401);
  });


  it('are open without a read key, as the /v1 reads are', async () => {
    const open = dashboardRoutes({});
    const res = await open.request('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('<script type="module" src="/dashboard/assets/app.js">');
    const css = await open.request('/dashboard/assets/style.css', { method: 'HEAD' });
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe('');
    const slash = await open.request('/dashboard/?key=x');
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/dashboard?key=x');
    expect((await open.request('/dashboard/assets/../../package.json')).status).toBe(404);
  });
});

describe('dashboard in Chromium', () => {
  it('looks up a user, explains, re-ranks after a test feedback, and shows every panel', async () => {
    await page.goto(`${base}/dashboard?key=${READ_KEY}`);
    // The page keeps the read key for its calls and takes it out of the address bar.
    await page.waitForFunction(() => !location.search.includes('key='));
    await expect.poll(() => page.locator(testid('model-version')).textContent()).toBe('v1');
    expect(await page.locator(testid('model-status')).textContent()).toBe('Ready');
    await expect.poll(() => page.locator(testid('health')).textContent()).toBe('Live · 9,742 items · 100,836 events');

    await page.fill(testid('api-key'), API_KEY);
    await page.click(testid('api-key-save'));
    expect(await page.locator(testid('api-key-state')).textContent()).toBe('saved for this tab');

    // User lookup: profile and ten recommendations with titles from the catalog.
    await page.fill(testid('user-id'), USER);
    await page.click(testid('user-lookup'));
    const recs = page.locator(testid('recommendation'));
    await recs.nth(9).waitFor();
    expect(await recs.count()).toBe(10);
    const titles = await page.locator(testid('rec-title')).allTextContents();
    expect(titles.every((t) => /\(\d{4}\)$/.test(t.trim()))).toBe(true); // "Title (1999)"
    await expect.poll(() => page.locator(testid('categories-text')).textContent()).toMatch(/%/);
    expect(await page.locator(testid('profile-facts')).textContent()).toContain('Interactions');

    // Explanations: every item names movies the user actually interacted with.
    const reasons = await page.locator(testid('because')).allTextContents();
    expect(reasons).toHaveLength(10);
    expect(reasons.every((r) => r.startsWith('Because of'))).toBe(true);
    const rated = new Set(await Promise.all((await store.userFeedback(USER)).map(async (e) => (await store.getItem(e.itemId))!.title)));
    const named = await page.locator(`${testid('because')} .because-item`).allTextContents();
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const chip of named) expect(rated).toContain(chip.replace(/\s*−?[\d.]+\s*%$/, ''));

    // A test purchase of the top item: the list is re-ranked from the response, changes marked.
    const before = await ids(page);
    await page.fill(testid('feedback-item'), before[0]);
    await page.selectOption(testid('feedback-type'), 'purchase');
    await page.click(testid('feedback-submit'));
    await page.locator(testid('recs-changes')).waitFor();
    const after = await ids(page);
    expect(after).toHaveLength(10);
    expect(after).not.toEqual(before);
    expect(after).not.toContain(before[0]); // bought: not recommended again
    expect(await page.locator(testid('rec-change')).count()).toBeGreaterThan(0);
    expect(await page.locator(testid('recs-changes')).textContent()).toMatch(/^After purchase of “.+”: .*dropped out/);
    expect(await page.locator(testid('feedback-message')).textContent()).toMatch(/^Stored purchase/);
    await expect.poll(() => page.locator(testid('because')).allTextContents()).not.toContain('Loading the explanation…');

    // Item lookup from a recommendation: the item and its neighbours.
    const first = page.locator(testid('rec-title')).first();
    const firstTitle = await first.textContent();
    await first.click();
    await page.locator(testid('similar-item')).first().waitFor();
    expect(await page.locator(testid('item-name')).textContent()).toBe(firstTitle);
    expect(await page.locator(testid('item-availability')).textContent()).toBe('Available');
    expect(await page.locator(testid('similar-item')).count()).toBe(10);

    await operatorPanels();

    mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  }, 120_000);
});

/** The operator panels: live events, recorded evaluations, and the segment map that looks users up. */
async function operatorPanels(): Promise<void> {
  await page.locator(`${testid('events-totals')} li`).first().waitFor();
  expect(await page.locator(testid('events-totals')).textContent()).toMatch(/events stored/);
  expect(await page.locator(testid('events-chart')).isVisible()).toBe(true);

  // The eval recorded at setup: popularity on the stratified split, with its metrics.
  const run = page.locator(testid('evaluation')).first();
  await run.waitFor();
  expect(await page.locator(testid('evaluation')).count()).toBe(1);
  const cells = await run.locator('th, td').allTextContents();
  expect(cells[0]).toBe('eval stratified');
  expect(cells[2]).toBe('popular');
  expect(cells[3]).toBe('10');

  await page.locator(`${testid('segments-legend')} li`).first().waitFor();
  // Clicking a point (here one of another user than the one on screen) looks its user up.
  const point = await page.evaluate((shown) => {
    const canvas = document.querySelector('[data-testid="segments-chart"]') as HTMLCanvasElement;
    canvas.scrollIntoView();
    const chart = (globalThis as unknown as { Chart: { getChart(c: HTMLCanvasElement): any } }).Chart.getChart(canvas);
    const points: Array<{ userId: string }> = chart.data.datasets[0].data;
    const index = points.findIndex((p) => p.userId !== shown);
    const element = chart.getDatasetMeta(0).data[index];
    const box = canvas.getBoundingClientRect();
    return { x: box.left + element.x, y: box.top + element.y, users: chart.data.datasets.flatMap((d: { data: Array<{ userId: string }> }) => d.data.map((p) => p.userId)) };
  }, USER);
  await page.mouse.click(point.x, point.y);
  await expect.poll(() => page.inputValue(testid('user-id'))).not.toBe(USER);
  expect(point.users).toContain(await page.inputValue(testid('user-id')));
  await page.locator(testid('recommendation')).first().waitFor();
  await expect.poll(() => page.locator(testid('because')).count()).toBe(10);
}

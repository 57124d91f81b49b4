/**
 * The server side of bench/http.ts, run as its own process so the load generator does not share
 * its event loop. Prints one JSON line with the bound port once it is ready, then serves until
 * SIGTERM/SIGINT.
 *
 *   npx tsx bench/http-server.ts --mode hello
 *       a hello-world Hono route: new Hono().get('/', c => c.text('ok')) via @hono/node-server
 *   Both modes answer GET /__bench/cpu with process.cpuUsage() (microseconds of CPU so far).
 *   npx tsx bench/http-server.ts --mode liverec --db <file> [--list-cache-items <n>]
 *       the liverec API over an already-imported store: Engine.open, await engine.trainNow(),
 *       createApp(engine); --list-cache-items sets engine.listCacheItems (0 = every read ranks).
 *       Bench-only routes outside the app: GET /__bench/cpu, GET /__bench/stats (server-side milliseconds spent in
 *       engine.addFeedback since the last reset) and POST /__bench/reset.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Engine } from '../src/engine/engine.ts';
import { createApp } from '../src/server/app.ts';
import { listen } from '../src/server/listen.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { arg, distribution } from './lib.ts';

const mode = arg('mode', 'hello');
const host = '127.0.0.1';

function ready(info: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(info) + '\n');
}

if (mode === 'hello') {
  // The CPU route is the bench's, read before and after a measured run: the server's CPU time per request.
  const app = new Hono().get('/', (c) => c.text('ok')).get('/__bench/cpu', (c) => c.json(process.cpuUsage()));
  const server = serve({ fetch: app.fetch, port: 0, hostname: host }, (info) => ready({ port: info.port }));
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else if (mode === 'liverec') {
  const db = arg('db', '');
  if (!db) throw new Error('--db <file> is required in liverec mode');
  const store = SqliteStore.open(db);
  // Retraining is switched off so a background fit does not compete for the CPU mid-run; every
  // other setting is the default (implicit ALS, k = 64, flood guard on, lists cached) unless given.
  const listCacheItems = arg('list-cache-items', '');
  const engine = await Engine.open(store, { retrainEvery: 0, retrainMinutes: 0, ...(listCacheItems !== '' && { listCacheItems: Number(listCacheItems) }) });
  const trainStart = performance.now();
  const info = await engine.trainNow();
  const trainSeconds = (performance.now() - trainStart) / 1000;

  // Server-side time of the live path, measured around engine.addFeedback (store write,
  // fold-in, top-N) on this instance only.
  let samples: number[] = [];
  const addFeedback = engine.addFeedback.bind(engine);
  // Until the post resolves: the wait for its group commit counts too.
  engine.addFeedback = async (...args: Parameters<Engine['addFeedback']>) => {
    const start = performance.now();
    try {
      return await addFeedback(...args);
    } finally {
      samples.push(performance.now() - start);
    }
  };

  const app = createApp(engine);
  const fetch = (request: Request): Response | Promise<Response> => {
    // A string test, not new URL(): the wrapper should cost the measured requests next to nothing.
    if (!request.url.includes('/__bench/')) return app.fetch(request);
    const path = new URL(request.url).pathname;
    if (path === '/__bench/stats') return Response.json(samples.length ? distribution(samples) : { count: 0 });
    if (path === '/__bench/cpu') return Response.json(process.cpuUsage());
    if (path === '/__bench/reset') {
      samples = [];
      return Response.json({ ok: true });
    }
    return app.fetch(request);
  };
  const server = await listen({ fetch }, { port: 0, host });
  ready({ port: server.port, trainSeconds, model: { version: info.version, algorithm: info.algorithm, params: info.params, metrics: info.metrics } });
  const stop = async () => {
    await server.close();
    await engine.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  throw new Error(`unknown --mode ${mode}: expected hello or liverec`);
}

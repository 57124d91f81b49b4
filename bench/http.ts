/**
 * HTTP throughput and import benchmark → bench/results/http.json. A benchmark, not a test.
 *
 * 1. Import: events/s of store.addFeedback in batches of 10,000 (one transaction each, WAL,
 *    synchronous = FULL) for the whole of ml-latest-small and for 1M synthetic events, each into
 *    a fresh database in a temp dir.
 * 2. HTTP on loopback, with autocannon in this process and the server in a child process
 *    (bench/http-server.ts), 32 connections, 2 s warm-up then 10 s measured, for:
 *      hello-world Hono route  (the ceiling for any Hono app on this machine)
 *      GET  /v1/users/:id/recommendations   rotating over ml-latest-small's users
 *      POST /v1/feedback                    rotating (user, item) pairs from ml-latest-small
 *    The liverec server opens the ml-latest-small database from step 1 and trains before
 *    serving (await engine.trainNow()). POSTs grow that database: it lives in the temp dir.
 *    Latency percentiles come from every response's time as autocannon reports it (ms, float).
 *    Server-side time per POST is measured inside the server around engine.addFeedback.
 *
 *   npx tsx bench/http.ts [--quick]
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Rng } from '../src/data/rng.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { FeedbackInput } from '../src/store/types.ts';
import { ROOT, distribution, isQuick, mlSmallRows, writeResult } from './lib.ts';
import { generate, timestamps } from './synthetic.ts';

const quick = isQuick();
const BATCH = 10_000;
const CONNECTIONS = 32;
const WARMUP_SECONDS = quick ? 1 : 2;
const SECONDS = quick ? 2 : 10;
const syntheticEvents = quick ? 100_000 : 1_000_000;

const dir = mkdtempSync(join(tmpdir(), 'liverec-bench-http-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// ---- 1. import throughput ----

interface ImportResult {
  dataset: string;
  events: number;
  accepted: number;
  batches: number;
  batchSize: number;
  /** Time inside store.addFeedback only (the batches are built outside it). */
  storeSeconds: number;
  eventsPerSecond: number;
}

async function importInto(path: string, dataset: string, total: number, batchAt: (start: number, end: number) => FeedbackInput[]): Promise<ImportResult> {
  const store = SqliteStore.open(path);
  let seconds = 0;
  let accepted = 0;
  let batches = 0;
  try {
    for (let start = 0; start < total; start += BATCH) {
      const batch = batchAt(start, Math.min(start + BATCH, total));
      const t0 = performance.now();
      accepted += (await store.addFeedback(batch, { createMissingItems: true })).accepted;
      seconds += (performance.now() - t0) / 1000;
      batches++;
    }
  } finally {
    await store.close();
  }
  const result = { dataset, events: total, accepted, batches, batchSize: BATCH, storeSeconds: seconds, eventsPerSecond: total / seconds };
  console.log(`import ${dataset}: ${total} events in ${seconds.toFixed(2)} s → ${Math.round(result.eventsPerSecond)} events/s`);
  return result;
}

const rows = mlSmallRows();
const mlDb = join(dir, 'ml-small.db');
const imports: ImportResult[] = [];
imports.push(
  await importInto(mlDb, 'ml-latest-small', rows.length, (start, end) =>
    rows.slice(start, end).map((r) => ({ userId: r.user, itemId: r.item, type: 'rating', value: r.value, timestamp: r.timestamp })),
  ),
);
{
  const syn = generate({ users: syntheticEvents / 10, items: syntheticEvents / 20, interactions: syntheticEvents, seed: 4 });
  const ts = timestamps(syntheticEvents, 4);
  const path = join(dir, 'synthetic.db');
  imports.push(
    await importInto(path, `synthetic-${syntheticEvents / 1e6}M`, syntheticEvents, (start, end) => {
      const batch: FeedbackInput[] = [];
      for (let t = start; t < end; t++) batch.push({ userId: `u${syn.userIdx[t]}`, itemId: `i${syn.itemIdx[t]}`, type: 'click', value: null, timestamp: ts[t] });
      return batch;
    }),
  );
  rmSync(path, { force: true });
  rmSync(path + '-wal', { force: true });
  rmSync(path + '-shm', { force: true });
}

// ---- 2. HTTP ----

interface Server {
  info: Record<string, unknown> & { port: number };
  stop(): Promise<void>;
}

/** Starts bench/http-server.ts in a child process and waits for its ready line. */
async function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/http-server.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`bench/http-server.ts ${args.join(' ')} exited with code ${code} before it was ready`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  exited.catch(() => undefined);
  return {
    info: JSON.parse(line),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

interface LoadSpec {
  name: string;
  method: 'GET' | 'POST';
  /** A description of the path(s) requested. */
  route: string;
  /** Returns the next request's path and body: a rotation over users and items. */
  next: () => { path: string; body?: string };
}

interface RouteResult {
  name: string;
  method: string;
  route: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: ReturnType<typeof distribution>;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  ratioToHelloWorld?: number;
}

function run(port: number, spec: LoadSpec, seconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: seconds,
        method: spec.method,
        headers: spec.method === 'POST' ? { 'content-type': 'application/json' } : {},
        requests: [
          {
            setupRequest: (request) => {
              const { path, body } = spec.next();
              request.path = path;
              if (body !== undefined) request.body = body;
              return request;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (onLatency) instance.on('response', (_client, status, _bytes, ms) => status < 300 && onLatency(ms));
  });
}

/** Warm-up run, then the measured run; `between` runs in between (e.g. resetting server-side stats). */
async function bench(port: number, spec: LoadSpec, between?: () => Promise<unknown>): Promise<RouteResult> {
  await run(port, spec, WARMUP_SECONDS);
  await between?.();
  const latencies: number[] = [];
  const result = await run(port, spec, SECONDS, (ms) => latencies.push(ms));
  const r: RouteResult = {
    name: spec.name,
    method: spec.method,
    route: spec.route,
    connections: CONNECTIONS,
    seconds: result.duration,
    requests: result['2xx'] + result.non2xx,
    requestsPerSecond: result['2xx'] / result.duration,
    latencyMs: distribution(latencies),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  };
  console.log(
    `${spec.name.padEnd(28)} ${Math.round(r.requestsPerSecond).toString().padStart(7)} req/s  p50 ${r.latencyMs.p50.toFixed(2)} ms  p99 ${r.latencyMs.p99.toFixed(2)} ms` +
      (r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''),
  );
  return r;
}

// Rotations: users in a shuffled order; feedback pairs = (user, an item someone rated).
const rng = new Rng(11);
const userIds = [...new Set(rows.map((r) => r.user))];
rng.shuffle(userIds);
const itemIds = rows.map((r) => r.item);
rng.shuffle(itemIds);
let getCounter = 0;
let postCounter = 0;

const routes: RouteResult[] = [];
let serverInfo: Record<string, unknown> = {};
type ServerStats = Partial<ReturnType<typeof distribution>> & { count: number };
let serverSide: ServerStats | null = null;

const hello = await startServer(['--mode', 'hello']);
try {
  routes.push(await bench(hello.info.port, { name: 'hello world (Hono)', method: 'GET', route: 'GET /', next: () => ({ path: '/' }) }));
} finally {
  await hello.stop();
}

const live = await startServer(['--mode', 'liverec', '--db', mlDb]);
try {
  serverInfo = live.info;
  console.log(`liverec server trained in ${Number(live.info.trainSeconds).toFixed(1)} s`);
  routes.push(
    await bench(live.info.port, {
      name: 'GET recommendations',
      method: 'GET',
      route: 'GET /v1/users/:id/recommendations',
      next: () => ({ path: `/v1/users/${userIds[getCounter++ % userIds.length]}/recommendations` }),
    }),
  );
  const post: LoadSpec = {
    name: 'POST feedback',
    method: 'POST',
    route: 'POST /v1/feedback',
    next: () => {
      const t = postCounter++;
      const body = JSON.stringify({ userId: userIds[t % userIds.length], itemId: itemIds[t % itemIds.length], type: 'click' });
      return { path: '/v1/feedback', body };
    },
  };
  // The server-side samples are reset after the warm-up so they cover the measured run only.
  const base = `http://127.0.0.1:${live.info.port}/__bench`;
  routes.push(await bench(live.info.port, post, () => fetch(`${base}/reset`, { method: 'POST' })));
  serverSide = (await (await fetch(`${base}/stats`)).json()) as ServerStats;
  console.log(`  server-side engine.addFeedback: p50 ${serverSide.p50?.toFixed(2)} ms  p99 ${serverSide.p99?.toFixed(2)} ms over ${serverSide.count} calls`);
} finally {
  await live.stop();
}

const helloRps = routes[0].requestsPerSecond;
for (const r of routes) r.ratioToHelloWorld = r.requestsPerSecond / helloRps;

writeResult('http', {
  method:
    `autocannon ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured per route, on 127.0.0.1; the server runs ` +
    'in a child process (bench/http-server.ts), the load generator in this one, so both share the machine\'s cores. req/s counts 2xx ' +
    'responses; latency percentiles are over every 2xx response time. The liverec server runs the default engine (implicit ALS, ' +
    'k = 64) over ml-latest-small imported through the Store, trained before serving, retraining off. Server-side POST time is ' +
    'engine.addFeedback (SQLite write with fsync, fold-in, top-10). Import: store.addFeedback in batches of 10,000 into a fresh ' +
    'database (WAL, synchronous = FULL) in the OS temp dir.',
  connections: CONNECTIONS,
  warmupSeconds: WARMUP_SECONDS,
  seconds: SECONDS,
  results: {
    routes,
    serverSideAddFeedbackMs: serverSide,
    server: serverInfo,
    import: imports,
  },
});

/**
 * HTTP throughput and import benchmark → bench/results/http.json. A benchmark, not a test.
 *
 * 1. Import: events/s of store.addFeedback in batches of 10,000 (one transaction each, WAL,
 *    synchronous = FULL) for the whole of ml-latest-small and for 1M synthetic events, each into
 *    a fresh database in a temp dir.
 * 2. HTTP on loopback, with autocannon in this process and three servers in child processes
 *    (bench/http-server.ts), 32 connections, 2 s warm-up then 10 s measured, for:
 *      hello-world Hono route  (the ceiling for any Hono app on this machine)
 *      GET  /v1/users/:id/recommendations   rotating over ml-latest-small's users: repeat reads
 *                                           answered from cached lists, and with the cache off
 *      POST /v1/feedback                    rotating (user, item) pairs from ml-latest-small
 *    The three GETs take turns over 3 rounds (--quick: 1), each round starting with the next,
 *    so the ratio to hello world compares runs made at the same moments; POST runs once, last.
 *    The liverec servers open the ml-latest-small database from step 1 and train before
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
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Rng } from '../src/data/rng.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { FeedbackInput } from '../src/store/types.ts';
import { ROOT, distribution, isQuick, mlSmallRows, percentile, writeResult } from './lib.ts';
import { generate, timestamps } from './synthetic.ts';

const quick = isQuick();
const BATCH = 10_000;
const CONNECTIONS = 32;
const WARMUP_SECONDS = quick ? 1 : 2;
const SECONDS = quick ? 2 : 10;
const ROUNDS = quick ? 1 : 3;
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
  port: number;
  /** Returns the next request's path and body: a rotation over users and items. */
  next: () => { path: string; body?: string };
}

/** One measured run of one route. */
interface Measured {
  round: number;
  name: string;
  seconds: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** 1-minute load average when the measured run started and ended. */
  loadAverage1m: { start: number; end: number };
  /** The server process's CPU time (user + system) over the measured run, per request answered. */
  serverCpuMicrosPerRequest: number;
  latencies: number[];
}

/** A route over every round it ran in. */
interface RouteResult {
  name: string;
  method: string;
  route: string;
  connections: number;
  seconds: number;
  requests: number;
  /** Median over the rounds (each round's figure in requestsPerSecondByRound). */
  requestsPerSecond: number;
  requestsPerSecondByRound: number[];
  latencyMs: ReturnType<typeof distribution>;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  loadAverage1m: { min: number; max: number };
  /** Median over the rounds: the server's CPU per request, which other jobs on the machine disturb less than req/s. */
  serverCpuMicrosPerRequest: number;
  /** Median req/s over hello world's median req/s. */
  ratioToHelloWorld?: number;
  /** This route's req/s over hello world's in the same round, per round. */
  ratioToHelloWorldByRound?: number[];
}

function run(spec: LoadSpec, seconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${spec.port}`,
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
async function bench(spec: LoadSpec, round: number, between?: () => Promise<unknown>): Promise<Measured> {
  await run(spec, WARMUP_SECONDS);
  await between?.();
  const latencies: number[] = [];
  const start = loadavg()[0];
  const cpuBefore = await serverCpu(spec.port);
  const result = await run(spec, SECONDS, (ms) => latencies.push(ms));
  const cpuMicros = (await serverCpu(spec.port)) - cpuBefore;
  const m: Measured = {
    round,
    name: spec.name,
    seconds: result.duration,
    requestsPerSecond: result['2xx'] / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    loadAverage1m: { start, end: loadavg()[0] },
    serverCpuMicrosPerRequest: cpuMicros / (result['2xx'] + result.non2xx),
    latencies,
  };
  const latency = distribution(latencies);
  console.log(
    `${spec.name.padEnd(40)} ${Math.round(m.requestsPerSecond).toString().padStart(7)} req/s  p50 ${latency.p50.toFixed(2)} ms  p99 ${latency.p99.toFixed(2)} ms` +
      `  server CPU ${m.serverCpuMicrosPerRequest.toFixed(0)} µs/request  load ${start.toFixed(2)} → ${m.loadAverage1m.end.toFixed(2)}` +
      (m.non2xx || m.errors ? `  (non-2xx ${m.non2xx}, errors ${m.errors})` : ''),
  );
  return m;
}

/** One route over its rounds: median req/s, latencies pooled, counts added. */
function summarise(spec: LoadSpec, runs: Measured[]): RouteResult {
  const sum = (f: (m: Measured) => number) => runs.reduce((total, m) => total + f(m), 0);
  const statusCodes: Record<string, number> = {};
  for (const m of runs) for (const [code, count] of Object.entries(m.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  const loads = runs.flatMap((m) => [m.loadAverage1m.start, m.loadAverage1m.end]);
  return {
    name: spec.name,
    method: spec.method,
    route: spec.route,
    connections: CONNECTIONS,
    seconds: sum((m) => m.seconds),
    requests: sum((m) => m.latencies.length + m.non2xx),
    requestsPerSecond: percentile(runs.map((m) => m.requestsPerSecond), 50),
    requestsPerSecondByRound: runs.map((m) => Math.round(m.requestsPerSecond)),
    latencyMs: distribution(runs.flatMap((m) => m.latencies)),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    statusCodes,
    loadAverage1m: { min: Math.min(...loads), max: Math.max(...loads) },
    serverCpuMicrosPerRequest: percentile(runs.map((m) => m.serverCpuMicrosPerRequest), 50),
  };
}

/** Microseconds of CPU (user + system) the server on `port` has used so far. */
async function serverCpu(port: number): Promise<number> {
  const { user, system } = (await (await fetch(`http://127.0.0.1:${port}/__bench/cpu`)).json()) as { user: number; system: number };
  return user + system;
}

// Rotations: users in a shuffled order; feedback pairs = (user, an item someone rated).
const rng = new Rng(11);
const userIds = [...new Set(rows.map((r) => r.user))];
rng.shuffle(userIds);
const itemIds = rows.map((r) => r.item);
rng.shuffle(itemIds);
let postCounter = 0;
/** The users in one fixed order, over and over: after the warm-up every read repeats an earlier one. */
function usersInTurn(): () => { path: string } {
  let t = 0;
  return () => ({ path: `/v1/users/${userIds[t++ % userIds.length]}/recommendations` });
}

let serverInfo: Record<string, unknown> = {};
type ServerStats = Partial<ReturnType<typeof distribution>> & { count: number };
let serverSide: ServerStats | null = null;
const measured: Measured[] = [];
let specs: LoadSpec[] = [];
let postResult: RouteResult;

// All three servers run throughout, and the routes take turns over the rounds, so hello world and
// the reads they are compared with run at the same moments (other jobs share the machine).
const starting = await Promise.allSettled([
  startServer(['--mode', 'hello']),
  startServer(['--mode', 'liverec', '--db', mlDb]),
  startServer(['--mode', 'liverec', '--db', mlDb, '--list-cache-items', '0']),
]);
const servers = starting.filter((s): s is PromiseFulfilledResult<Server> => s.status === 'fulfilled').map((s) => s.value);
try {
  // One failed to start: the others are stopped (finally) rather than left running.
  const failed = starting.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [hello, cached, ranking] = servers;
  serverInfo = cached.info;
  console.log(`liverec servers trained in ${Number(cached.info.trainSeconds).toFixed(1)} s and ${Number(ranking.info.trainSeconds).toFixed(1)} s`);
  specs = [
    { name: 'hello world (Hono)', method: 'GET', route: 'GET /', port: hello.info.port, next: () => ({ path: '/' }) },
    { name: 'GET recommendations, repeat (cached)', method: 'GET', route: 'GET /v1/users/:id/recommendations', port: cached.info.port, next: usersInTurn() },
    { name: 'GET recommendations, cache off', method: 'GET', route: 'GET /v1/users/:id/recommendations', port: ranking.info.port, next: usersInTurn() },
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}`);
    // Each round starts with the next route, so none always runs first or last.
    for (let i = 0; i < specs.length; i++) measured.push(await bench(specs[(i + round - 1) % specs.length], round));
  }
  const post: LoadSpec = {
    name: 'POST feedback',
    method: 'POST',
    route: 'POST /v1/feedback',
    port: cached.info.port,
    next: () => {
      const t = postCounter++;
      const body = JSON.stringify({ userId: userIds[t % userIds.length], itemId: itemIds[t % itemIds.length], type: 'click' });
      return { path: '/v1/feedback', body };
    },
  };
  // The server-side samples are reset after the warm-up so they cover the measured run only.
  const base = `http://127.0.0.1:${cached.info.port}/__bench`;
  postResult = summarise(post, [await bench(post, 1, () => fetch(`${base}/reset`, { method: 'POST' }))]);
  serverSide = (await (await fetch(`${base}/stats`)).json()) as ServerStats;
  console.log(`  server-side engine.addFeedback: p50 ${serverSide.p50?.toFixed(2)} ms  p99 ${serverSide.p99?.toFixed(2)} ms over ${serverSide.count} calls`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}

const routes = specs.map((spec) => summarise(spec, measured.filter((m) => m.name === spec.name)));
routes.push(postResult!);
const hello = routes[0];
const helloByRound = measured.filter((m) => m.name === hello.name);
for (const r of routes) {
  r.ratioToHelloWorld = r.requestsPerSecond / hello.requestsPerSecond;
  const runs = measured.filter((m) => m.name === r.name);
  if (runs.length === helloByRound.length) r.ratioToHelloWorldByRound = runs.map((m, i) => Math.round((100 * m.requestsPerSecond) / helloByRound[i].requestsPerSecond) / 100);
}
console.log(
  `repeat GET / hello world: ${routes[1].ratioToHelloWorld!.toFixed(2)} in req/s (by round ${routes[1].ratioToHelloWorldByRound!.join(', ')}), ` +
    `${(hello.serverCpuMicrosPerRequest / routes[1].serverCpuMicrosPerRequest).toFixed(2)} in server CPU per request`,
);

writeResult('http', {
  method:
    `autocannon ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured per route, on 127.0.0.1; three servers in child ` +
    'processes (bench/http-server.ts) — hello world, liverec with its cached lists (the default), liverec with them off (listCacheItems 0) — ' +
    `and the load generator in this one, all sharing the machine's cores. The GET routes take turns over ${ROUNDS} round(s), each round starting ` +
    'with the next, so hello world and the reads compared with it run at the same moments; req/s is the median over the rounds (each round\'s ' +
    'figure and its ratio to that round\'s hello world alongside) and counts 2xx responses; latency percentiles are over every 2xx response; ' +
    'server CPU per request is the server process\'s user + system CPU time over the measured run (process.cpuUsage) over the responses. ' +
    'Both GETs rotate over ml-latest-small\'s 610 users in one fixed order, so after the warm-up every read on the caching server repeats an ' +
    'earlier one (a hit). The liverec servers run the default engine (implicit ALS, k = 64) over ml-latest-small imported through the Store, ' +
    'trained before serving, retraining off. POST feedback runs once, last, against the caching server; its server-side time is ' +
    'engine.addFeedback (SQLite write with fsync, fold-in, top-10). Import: store.addFeedback in batches of 10,000 into a fresh ' +
    'database (WAL, synchronous = FULL) in the OS temp dir.',
  connections: CONNECTIONS,
  warmupSeconds: WARMUP_SECONDS,
  seconds: SECONDS,
  rounds: ROUNDS,
  results: {
    routes,
    runs: measured.map(({ latencies: _, ...run }) => run),
    serverSideAddFeedbackMs: serverSide,
    server: serverInfo,
    import: imports,
  },
});

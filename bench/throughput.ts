/**
 * Throughput by deployment → bench/results/throughput.json: GET recommendations and POST feedback
 * against one SQLite server, one PostgreSQL server and two PostgreSQL servers sharing a database,
 * in the same run, on the same data. A benchmark, not a test: nothing here fails on a timing.
 *
 * Data: ml-latest-small (9,742 movies, 100,836 ratings; --quick: the first 20,000 ratings),
 * loaded with `liverec import` and trained with `liverec train` (implicit ALS, defaults) once
 * into a SQLite file and once into a PostgreSQL database. That database is then copied
 * (CREATE DATABASE … TEMPLATE) for each PostgreSQL topology, so each starts from the same rows
 * and model rather than from what the previous topology's POSTs added.
 *
 * Servers: `liverec serve --db … --log off` children on loopback, automatic retrains off, every
 * other setting the default (SQLite: WAL, synchronous = FULL; PostgreSQL: a private server with
 * its durable defaults, fsync and synchronous_commit on). All four run for the whole benchmark.
 * Load: autocannon in this process, 32 connections in all, a warm-up then the measured run per
 * endpoint (GET first, then POST). With two servers each gets its own autocannon instance of 16
 * connections, run at the same time; their 2xx counts are added and their latencies pooled.
 * Every topology gets the same request sequence: users in one shuffled order for GET, (user,
 * rated movie) pairs for POST (type click, server time).
 *
 * The machine's 2 cores run the load generator, the servers and PostgreSQL together, and other
 * jobs come and go: one pass per topology would compare the topologies and the moments they ran
 * at. So the topologies take turns over several rounds (3; --quick: 1), each round starting with
 * the next one, and the summary gives each the median req/s over its rounds and the latency
 * percentiles over all its answers. The 1-minute load average is recorded around every run.
 *
 *   npx tsx bench/throughput.ts [--quick]
 */
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { Rng } from '../src/data/rng.ts';
import { startCluster, type Cluster } from '../test/support/postgres-cluster.ts';
import { liverec, requireWasm, startServer, stopServer, type ServerChild } from './drills/child.ts';
import { ROOT, distribution, isQuick, mlSmallRows, percentile, writeResult } from './lib.ts';

const quick = isQuick();
const CONNECTIONS = 32;
const WARMUP_SECONDS = quick ? 1 : 2;
const SECONDS = quick ? 3 : 10;
const RATINGS = quick ? 20_000 : Infinity;
const ROUNDS = quick ? 1 : 3;
const MOVIES = join(ROOT, 'data/ml-latest-small/movies.csv');
const RATINGS_CSV = join(ROOT, 'data/ml-latest-small/ratings.csv');
/** The PostgreSQL database imported and trained once, then copied for each PostgreSQL topology. */
const SEED_DATABASE = 'tp_seed';
const ENDPOINT_NAMES = ['GET recommendations', 'POST feedback'];

interface Topology {
  name: string;
  servers: number;
  /** Where its servers' data lives: a file path or a postgres:// URL. */
  db: string;
}

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  route: string;
  /** The next request of the rotation. */
  next: () => { path: string; body?: string };
}

interface Running {
  topology: Topology;
  servers: ServerChild[];
}

/** One measured run: a topology, an endpoint, a round. */
interface Measured {
  round: number;
  topology: string;
  endpoint: string;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 1-minute load average when the measured run started and ended. */
  loadAverage1m: { start: number; end: number };
  /** Every 2xx answer's latency (pooled into the summary, not written out). */
  latencies: number[];
}

/** A topology and endpoint over all rounds. */
interface Summary {
  topology: string;
  endpoint: string;
  servers: number;
  /** Median over the rounds (and each round's figure). */
  requestsPerSecond: number;
  requestsPerSecondByRound: number[];
  /** latencyMs.p50 and .p99 again, at the top level where bench/report.ts's generic tables show them. */
  p50Ms: number;
  p99Ms: number;
  latencyMs: ReturnType<typeof distribution>;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** The lowest and highest 1-minute load average seen around its runs. */
  loadAverage1m: { min: number; max: number };
}

requireWasm();
const dir = mkdtempSync(join(tmpdir(), 'liverec-bench-throughput-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cluster = await startCluster({ durable: true });
try {
  await main(cluster);
} finally {
  await cluster.stop();
}

async function main(cluster: Cluster): Promise<void> {
  const config = writeConfig();
  const { sqliteDb, seconds } = await seedBoth(cluster);
  const topologies: Topology[] = [
    { name: 'SQLite, 1 server', servers: 1, db: sqliteDb },
    { name: 'PostgreSQL, 1 server', servers: 1, db: await createNamedDatabase(cluster, 'tp_pg1', SEED_DATABASE) },
    { name: 'PostgreSQL, 2 servers', servers: 2, db: await createNamedDatabase(cluster, 'tp_pg2', SEED_DATABASE) },
  ];
  const running = await startAll(topologies, config);
  const measured: Measured[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round starts with the next topology, so none always runs first or last.
      const order = running.map((_, i) => running[(i + round - 1) % running.length]);
      for (const topology of order) measured.push(...(await measureTopology(topology, round)));
    }
  } finally {
    await Promise.all(running.map(stopTopology));
  }
  const summary = topologies.flatMap((t) => ENDPOINT_NAMES.map((e) => summarise(t, e, measured)));
  printTable(summary);
  writeResult('throughput', {
    method:
      `ml-latest-small (${quick ? 'first 20,000 ratings' : 'all 100,836 ratings'}) imported and trained (implicit ALS, defaults) with the CLI into a SQLite file ` +
      'and into a PostgreSQL database, the latter copied per PostgreSQL topology (CREATE DATABASE … TEMPLATE) so every topology starts from the same rows ' +
      'and model. Servers: `liverec serve --db … --log off` children on 127.0.0.1, automatic retrains off, other settings default (SQLite WAL with ' +
      'synchronous = FULL; a private PostgreSQL with fsync and synchronous_commit on). autocannon in this process, ' +
      `${CONNECTIONS} connections in all (two servers: ${CONNECTIONS / 2} each, two instances at once, 2xx added, latencies pooled), ${WARMUP_SECONDS} s warm-up then ` +
      `${SECONDS} s measured per endpoint, GET then POST, the same request sequence for every topology. All servers run throughout; the topologies ` +
      `take turns over ${ROUNDS} round(s), each round starting with the next topology. req/s is the median over the rounds (each round's figure ` +
      'alongside) and counts 2xx answers; latency percentiles are over every 2xx answer of every round. Load generator, servers and PostgreSQL ' +
      'share the machine\'s cores, and other jobs ran too: compare rows, and read the load average.',
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds: SECONDS,
    rounds: ROUNDS,
    results: {
      seedSeconds: seconds,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      summary,
      runs: measured.map(({ latencies: _, ...run }) => run),
    },
  });
}

// ---- data -----------------------------------------------------------------------------------

/** Automatic retrains off, so no fit competes for the CPU mid-measurement. */
function writeConfig(): string {
  const path = join(dir, 'serve.json');
  writeFileSync(path, JSON.stringify({ engine: { retrainEvery: 0, retrainMinutes: 0 } }));
  return path;
}

/** The ratings file to import: all of ml-latest-small, or its first rows for --quick. */
function ratingsFile(): string {
  if (RATINGS === Infinity) return RATINGS_CSV;
  const lines = readFileSync(RATINGS_CSV, 'utf8').split('\n');
  const path = join(dir, 'ratings.csv');
  writeFileSync(path, lines.slice(0, RATINGS + 1).join('\n') + '\n');
  return path;
}

/** Imports and trains the same data into a SQLite file and a PostgreSQL database (`tp_seed`). */
async function seedBoth(cluster: Cluster): Promise<{ sqliteDb: string; seconds: Record<string, number> }> {
  const ratings = ratingsFile();
  const sqliteDb = join(dir, 'ml.db');
  const postgresSeed = await createNamedDatabase(cluster, SEED_DATABASE);
  const seconds: Record<string, number> = {};
  for (const [name, db] of [['sqlite', sqliteDb], ['postgres', postgresSeed]] as const) {
    const started = performance.now();
    liverec('import', '--db', db, '--movies', MOVIES, '--ratings', ratings);
    liverec('train', '--db', db);
    seconds[name] = (performance.now() - started) / 1000;
    console.log(`${name}: imported and trained in ${seconds[name].toFixed(1)} s`);
  }
  return { sqliteDb, seconds };
}

/**
 * CREATE DATABASE `name` on the cluster, empty or as a copy of `template` (its rows and model, so
 * each topology starts from the same state). The template must have no open connection: the
 * CLI commands that filled it have exited.
 */
async function createNamedDatabase(cluster: Cluster, name: string, template?: string): Promise<string> {
  const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
  try {
    // The names are ours (letters, digits, underscores): no quoting issue.
    await admin.unsafe(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---- load -----------------------------------------------------------------------------------

/**
 * The request rotations, restarted for every topology so each sees the same sequence: users in
 * one shuffled order (GET), (user, rated movie) pairs (POST).
 */
function endpoints(): Endpoint[] {
  const rows = mlSmallRows().slice(0, RATINGS === Infinity ? undefined : RATINGS);
  const rng = new Rng(11);
  const users = [...new Set(rows.map((r) => r.user))];
  rng.shuffle(users);
  const items = rows.map((r) => r.item);
  rng.shuffle(items);
  let gets = 0;
  let posts = 0;
  return [
    {
      name: ENDPOINT_NAMES[0],
      method: 'GET',
      route: 'GET /v1/users/:id/recommendations',
      next: () => ({ path: `/v1/users/${users[gets++ % users.length]}/recommendations` }),
    },
    {
      name: ENDPOINT_NAMES[1],
      method: 'POST',
      route: 'POST /v1/feedback',
      next: () => {
        const t = posts++;
        return { path: '/v1/feedback', body: JSON.stringify({ userId: users[t % users.length], itemId: items[t % items.length], type: 'click' }) };
      },
    },
  ];
}

/** Every topology's servers, started at once; if one fails to start, the others are stopped again. */
async function startAll(topologies: Topology[], config: string): Promise<Running[]> {
  const started = await Promise.allSettled(topologies.map((topology) => startTopology(topology, config)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const running = started.filter((s): s is PromiseFulfilledResult<Running> => s.status === 'fulfilled').map((s) => s.value);
  if (!failed) return running;
  await Promise.all(running.map(stopTopology));
  throw failed.reason;
}

async function startTopology(topology: Topology, config: string): Promise<Running> {
  const servers = await Promise.all(
    Array.from({ length: topology.servers }, () => startServer(['serve', '--db', topology.db, '--port', '0', '--log', 'off', '--config', config])),
  );
  console.log(`${topology.name}: ${servers.map((s) => s.url).join(' ')}`);
  return { topology, servers };
}

async function stopTopology({ topology, servers }: Running): Promise<void> {
  for (const server of servers) {
    const stopped = await stopServer(server);
    if (!stopped.graceful) console.error(`${topology.name}: a server stopped with ${stopped.code ?? stopped.signal}: ${server.stderr()}`);
  }
}

/** GET then POST against one topology: a warm-up, then the measured run, per endpoint. */
async function measureTopology({ topology, servers }: Running, round: number): Promise<Measured[]> {
  console.log(`\nround ${round}, ${topology.name}`);
  const results: Measured[] = [];
  for (const endpoint of endpoints()) {
    await load(servers, endpoint, WARMUP_SECONDS);
    const start = loadavg()[0];
    const run = await load(servers, endpoint, SECONDS);
    const latencyMs = distribution(run.latencies);
    const result: Measured = {
      round, topology: topology.name, endpoint: endpoint.name, seconds: run.seconds, requestsPerSecond: run.ok / run.seconds,
      p50Ms: latencyMs.p50, p99Ms: latencyMs.p99, non2xx: run.non2xx, errors: run.errors, timeouts: run.timeouts,
      loadAverage1m: { start, end: loadavg()[0] }, latencies: run.latencies,
    };
    console.log(describe(result));
    results.push(result);
  }
  return results;
}

/** One topology and endpoint over every round: median req/s, latency over all answers. */
function summarise(topology: Topology, endpoint: string, measured: Measured[]): Summary {
  const runs = measured.filter((m) => m.topology === topology.name && m.endpoint === endpoint);
  const latencyMs = distribution(runs.flatMap((r) => r.latencies));
  const loads = runs.flatMap((r) => [r.loadAverage1m.start, r.loadAverage1m.end]);
  const sum = (f: (r: Measured) => number) => runs.reduce((total, r) => total + f(r), 0);
  return {
    topology: topology.name, endpoint, servers: topology.servers,
    requestsPerSecond: percentile(runs.map((r) => r.requestsPerSecond), 50),
    requestsPerSecondByRound: runs.map((r) => Math.round(r.requestsPerSecond)),
    p50Ms: latencyMs.p50, p99Ms: latencyMs.p99, latencyMs,
    non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors), timeouts: sum((r) => r.timeouts),
    loadAverage1m: { min: Math.min(...loads), max: Math.max(...loads) },
  };
}

/** One autocannon instance per server, all at once, the connections split evenly; figures pooled. */
async function load(servers: ServerChild[], endpoint: Endpoint, seconds: number) {
  const latencies: number[] = [];
  const runs = await Promise.all(servers.map((server) => cannon(server.url, endpoint, CONNECTIONS / servers.length, seconds, latencies)));
  return {
    // The instances ran side by side: the pooled rate is their 2xx over the longest duration.
    seconds: Math.max(...runs.map((r) => r.duration)),
    ok: runs.reduce((s, r) => s + r['2xx'], 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    timeouts: runs.reduce((s, r) => s + r.timeouts, 0),
    latencies,
  };
}

function cannon(url: string, endpoint: Endpoint, connections: number, seconds: number, latencies: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        method: endpoint.method,
        headers: endpoint.method === 'POST' ? { 'content-type': 'application/json' } : {},
        requests: [
          {
            setupRequest: (request) => {
              const { path, body } = endpoint.next();
              request.path = path;
              if (body !== undefined) request.body = body;
              return request;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, status, _bytes, ms) => status < 300 && latencies.push(ms));
  });
}

// ---- output ---------------------------------------------------------------------------------

function describe(r: Measured): string {
  return (
    `  ${r.endpoint.padEnd(20)} ${Math.round(r.requestsPerSecond).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(1)} ms  ` +
    `p99 ${r.p99Ms.toFixed(1)} ms  load ${r.loadAverage1m.start.toFixed(2)} → ${r.loadAverage1m.end.toFixed(2)}` +
    (r.non2xx || r.errors || r.timeouts ? `  (non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})` : '')
  );
}

function printTable(summary: Summary[]): void {
  console.log(`\n| topology | endpoint | req/s (median of ${ROUNDS}) | by round | p50 ms | p99 ms | load (1 min) |`);
  console.log('|---|---|---:|---|---:|---:|---:|');
  for (const r of summary) {
    console.log(
      `| ${r.topology} | ${r.endpoint} | ${Math.round(r.requestsPerSecond)} | ${r.requestsPerSecondByRound.join(', ')} | ${r.p50Ms.toFixed(1)} | ` +
        `${r.p99Ms.toFixed(1)} | ${r.loadAverage1m.min.toFixed(2)}–${r.loadAverage1m.max.toFixed(2)} |`,
    );
  }
}

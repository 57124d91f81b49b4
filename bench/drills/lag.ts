/**
 * Lag drill: does the serving thread stay free while data pours in and models are retrained?
 *
 *   npm run drill:lag [-- --quick] [-- --phase a|b] [-- --seed 1] [-- --keep] [-- --cpu-prof DIR]
 *
 * Runs the real server (`node bin/liverec.mjs serve --db <tmp> --port 0`) as a child process and
 * measures it from both sides:
 *   - inside: the server's event-loop delay, from a tiny preload (`node --import <sampler.mjs>`,
 *     written by this drill to a temp dir) holding a `monitorEventLoopDelay({ resolution: 10 })`
 *     histogram, read and reset per phase over the child's IPC channel. The preload also lists
 *     every gap of more than 50 ms between its own 10 ms ticks (when, how long): the stalls.
 *   - outside: every 20 ms, GET /v1/users/<user>/recommendations?n=10 on one keep-alive
 *     connection (a node:http Agent with maxSockets 1): latency per request, connection errors,
 *     non-2xx answers, and how many sockets the probe had to open (1 = the connection held).
 * Phases:
 *   a "backfill": a fresh database (`serve --create`), default engine settings (a background
 *     retrain every 10,000 events). The ml-latest-small catalog is upserted over HTTP in arrays,
 *     then all 100,836 ratings are POSTed in arrays of 5,000 on a second keep-alive connection, one
 *     after the other; then POST /v1/model/train and wait until that model serves.
 *   b "big-retrain": a synthetic 1,000,000 events over 30,000 of a 100,000-item catalog (70% of
 *     items without feedback, Zipf popularity, ~50,000 users), loaded with `liverec import` and
 *     trained once with `liverec train` before the server starts (not measured). Then POST
 *     /v1/model/train and sample through the retrain and the swap until the new version serves,
 *     plus 2 s. --quick: 200,000 events over 6,000 of 20,000 items.
 * Targets (reported pass/fail per phase; a timing never sets the exit code): event-loop delay
 * p99 ≤ 20 ms and max ≤ 100 ms, no request slower than 250 ms, no connection errors.
 *
 * Writes bench/results/lag.json (bench/results/quick/lag.json with --quick). --cpu-prof DIR writes
 * the server's CPU profiles (node --cpu-prof) to DIR, to see what a stall was made of.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { movieLensMovies, movieLensRatings } from '../../src/cli/import-sources.ts';
import { arg, distribution, isQuick, ROOT, writeResult } from '../lib.ts';
import { generate, timestamps } from '../synthetic.ts';
import { BIN, intArg, liverec, requireWasm, stopServer, type ServerChild } from './child.ts';

const QUICK = isQuick();
const PHASES = arg('phase', 'ab');
if (!/^(a|b|ab)$/.test(PHASES)) throw new Error(`--phase must be a or b, got ${PHASES}`);
const SEED = intArg(arg('seed', '1'), 'seed', 0);
const KEEP = process.argv.includes('--keep');
const CPU_PROFILE_DIR = arg('cpu-prof', '');

const PROBE_EVERY_MS = 20;
const SLOW_MS = 250;
const RESOLUTION_MS = 10;
const STALL_MS = 50;
const BATCH = 5_000;
const TARGETS = { loopDelayP99Ms: 20, loopDelayMaxMs: 100, slowRequests: 0, connectionErrors: 0 };
const BIG = QUICK ? { events: 200_000, catalog: 20_000, withFeedback: 6_000, users: 20_000 } : { events: 1_000_000, catalog: 100_000, withFeedback: 30_000, users: 50_000 };
const CATEGORIES = 40;

// ---- the in-server sampler (a preload, plain JavaScript) ----------------------------------------

const SAMPLER = `// Written by bench/drills/lag.ts: event-loop delay of the serving thread, read over IPC.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
if (isMainThread && process.send) {
  const h = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
  h.enable();
  let since = performance.now();
  let last = since;
  let stalls = [];
  // Gaps between our own ${RESOLUTION_MS} ms ticks: when and how long the thread was not free.
  setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    if (gap > ${STALL_MS} && stalls.length < 1000) stalls.push([Math.round(last - since), Math.round(gap)]);
    last = now;
  }, ${RESOLUTION_MS}).unref();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.on('message', (msg) => {
    if (!msg || msg.lagSampler !== true) return;
    const now = performance.now();
    process.send({ lagSampler: true, id: msg.id, snapshot: {
      samples: h.count, min: ms(h.min), mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), stalls, windowMs: Math.round(now - since),
    } });
    if (msg.reset) { h.reset(); stalls = []; since = now; last = now; }
  });
  process.channel?.unref();
}
`;

interface LoopDelay {
  samples: number; min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number;
  /** [ms since the phase began, gap in ms] for every gap > 50 ms between the sampler's ticks. */
  stalls: [number, number][];
  windowMs: number;
}

interface Server extends ServerChild {
  loopDelay(reset: boolean): Promise<LoopDelay>;
}

/** Like child.ts's startServer, plus the sampler preload and an IPC channel to read it. */
function startServer(sampler: string, args: string[], timeoutMs = 600_000): Promise<Server> {
  const started = performance.now();
  const profiling = CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', pathToFileURL(sampler).href, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  let stderr = '';
  let done = false;
  let nextId = 0;
  const waiting = new Map<number, (s: LoopDelay) => void>();
  child.on('message', (msg: { lagSampler?: boolean; id: number; snapshot: LoopDelay }) => {
    if (msg?.lagSampler) waiting.get(msg.id)?.(msg.snapshot);
    waiting.delete(msg.id);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no URL within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    let url: string | null = null;
    child.stdout!.on('data', (chunk: Buffer) => {
      // Request log lines are not kept (a few MB per run); only the start, for the URL.
      if (url) return;
      stdout += chunk.toString();
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (!match || child.pid === undefined) return;
      url = match[1];
      clearTimeout(timer);
      resolve({
        child: child as unknown as ServerChild['child'],
        pid: child.pid,
        url,
        startMs: performance.now() - started,
        stderr: () => stderr.replace(/^settings: .*\n?/m, ''),
        stdout: () => stdout,
        exited,
        hasExited: () => done,
        loopDelay: (reset) =>
          new Promise((res, rej) => {
            const id = nextId++;
            const t = setTimeout(() => rej(new Error('the sampler did not answer within 120 s')), 120_000);
            waiting.set(id, (s) => (clearTimeout(t), res(s)));
            child.send({ lagSampler: true, id, reset });
          }),
      });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
}

// ---- one keep-alive connection per client ----------------------------------------------------------

interface Answer { status: number; ms: number; body: string; error?: string }

/** A client on one keep-alive connection: requests go one at a time; `sockets` counts reconnects. */
class Lane {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  sockets = 0;
  constructor(private readonly base: string) {}

  call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<Answer> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const start = performance.now();
    return new Promise((resolve) => {
      const req = request(`${this.base}${path}`, { method, agent: this.agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => void (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start, body: text }));
        res.on('error', (e) => resolve({ status: 0, ms: performance.now() - start, body: text, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      });
      req.on('socket', (s) => {
        // A reused keep-alive socket is handed over again; count each socket once.
        if (!(s as { lagCounted?: boolean }).lagCounted) ((s as { lagCounted?: boolean }).lagCounted = true), this.sockets++;
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e) => resolve({ status: 0, ms: performance.now() - start, body: '', error: (e as NodeJS.ErrnoException).code ?? e.message }));
      req.end(data);
    });
  }

  async json<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.call(method, path, body);
    if (a.error || a.status < 200 || a.status > 299) throw new Error(`${method} ${path} → ${a.error ?? a.status}: ${a.body.slice(0, 300)}`);
    return JSON.parse(a.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** GET recommendations every 20 ms on one connection until stopped (never two at once). */
function probe(url: string, userId: string, t0: number) {
  const lane = new Lane(url);
  const path = `/v1/users/${encodeURIComponent(userId)}/recommendations?n=10`;
  const latencies: number[] = [];
  const slow: [number, number][] = [];
  const errors: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let stopped = false;
  const done = (async () => {
    let next = performance.now();
    while (!stopped) {
      const at = performance.now() - t0;
      const a = await lane.call('GET', path, undefined, 30_000);
      if (a.error) errors[a.error] = (errors[a.error] ?? 0) + 1;
      else {
        latencies.push(a.ms);
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.ms > SLOW_MS) slow.push([Math.round(at), Math.round(a.ms)]);
      }
      next = Math.max(next + PROBE_EVERY_MS, performance.now());
      await sleep(next - performance.now());
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      lane.close();
      const non2xx = Object.entries(statuses).filter(([s]) => !s.startsWith('2')).reduce((n, [, c]) => n + c, 0);
      const d = distribution(latencies);
      return {
        requests: latencies.length + Object.values(errors).reduce((a, b) => a + b, 0),
        latencyMs: { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max), mean: round(d.mean) },
        slowerThan250ms: slow.length,
        /** [ms since the phase start (the sampler reset), latency ms] of each slow request, first 200. */
        slow: slow.slice(0, 200),
        connectionErrors: Object.values(errors).reduce((a, b) => a + b, 0),
        errorCodes: errors,
        non2xx,
        statuses,
        socketsOpened: lane.sockets,
      };
    },
  };
}

/** GET /v1/model every 500 ms on its own connection: when retrains start and when versions swap in. */
function watchModel(url: string, t0: number) {
  const lane = new Lane(url);
  const events: { atMs: number; what: string }[] = [];
  let lastKey = '';
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const a = await lane.call('GET', '/v1/model', undefined, 30_000);
      if (!a.error && a.status === 200) {
        const m = JSON.parse(a.body) as { version: number | null; status: string; training?: { jobId: string } };
        const key = `${m.version}/${m.training?.jobId ?? ''}`;
        if (key !== lastKey) events.push({ atMs: Math.round(performance.now() - t0), what: `v${m.version} ${m.status}${m.training ? ` (job ${m.training.jobId.slice(0, 8)})` : ''}` });
        lastKey = key;
      }
      await sleep(500);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      lane.close();
      return events;
    },
  };
}

/**
 * Runs `work` with the probe and the model watch going; the server's loop delay is reset first.
 * Every time in a phase's result is in ms since that reset. `work` may return `busy`: the windows
 * [from, to] in which it had an ingest request in flight, to tell stalls of ingest from the rest.
 */
async function measured<T extends object>(server: Server, probeUser: string, work: (at: () => number) => Promise<T>) {
  await server.loopDelay(true);
  const t0 = performance.now();
  const at = () => Math.round(performance.now() - t0);
  await sleep(300); // the interval straddling a reset is not recorded: start the load after it
  const p = probe(server.url, probeUser, t0);
  const watch = watchModel(server.url, t0);
  const started = performance.now();
  const { busy = [], ...extra } = (await work(at)) as T & { busy?: [number, number][] };
  const seconds = (performance.now() - started) / 1000;
  const requests = await p.stop();
  const modelTimeline = await watch.stop();
  const loop = await server.loopDelay(false);
  const stallMs = loop.stalls.map(([, ms]) => ms);
  const inIngest = loop.stalls.filter(([from, ms]) => busy.some(([a, b]) => from < b && from + ms > a)).map(([, ms]) => ms);
  // The histogram records the time between two of its timer's ticks, so an idle loop reads the
  // resolution itself: the delay is what lies beyond it (the raw intervals are kept beside).
  const beyond = (ms: number) => round(Math.max(0, ms - RESOLUTION_MS));
  const loopIntervalMs = { samples: loop.samples, p50: loop.p50, p90: loop.p90, p99: loop.p99, p999: loop.p999, max: loop.max, mean: loop.mean };
  const loopDelayMs = {
    samples: loop.samples, p50: beyond(loop.p50), p90: beyond(loop.p90), p99: beyond(loop.p99), p999: beyond(loop.p999), max: beyond(loop.max), mean: beyond(loop.mean),
  };
  const targets = {
    loopDelayP99: { target: `≤ ${TARGETS.loopDelayP99Ms} ms`, value: loopDelayMs.p99, pass: loopDelayMs.p99 <= TARGETS.loopDelayP99Ms },
    loopDelayMax: { target: `≤ ${TARGETS.loopDelayMaxMs} ms`, value: loopDelayMs.max, pass: loopDelayMs.max <= TARGETS.loopDelayMaxMs },
    slowRequests: { target: `no request > ${SLOW_MS} ms`, value: requests.slowerThan250ms, pass: requests.slowerThan250ms === 0 },
    connectionErrors: { target: '0', value: requests.connectionErrors, pass: requests.connectionErrors === 0 },
  };
  return {
    seconds: round(seconds, 2),
    loopDelayMs,
    loopIntervalMs,
    stalls: {
      count: stallMs.length,
      totalMs: stallMs.reduce((a, b) => a + b, 0),
      longestMs: Math.max(0, ...stallMs),
      /** Stalls that overlap an ingest request of the drill, and their sum. */
      duringIngest: { count: inIngest.length, totalMs: inIngest.reduce((a, b) => a + b, 0), longestMs: Math.max(0, ...inIngest) },
      /** [ms since the reset, ms] of each, first 200. */
      list: loop.stalls.slice(0, 200),
    },
    requests,
    targets,
    pass: Object.values(targets).every((t) => t.pass),
    modelTimeline,
    ...extra,
  };
}

function* chunks<T>(rows: Iterable<{ value: T } | { reason: string }>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const row of rows) {
    if (!('value' in row)) throw new Error(`bad input row: ${row.reason}`);
    batch.push(row.value);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** Polls GET /v1/model until a version newer than `after` serves; returns it and how long it took. */
async function untilServes(lane: Lane, after: number | null, timeoutMs = 1_800_000) {
  const start = performance.now();
  for (;;) {
    const m = await lane.json<{ version: number | null; status: string; metrics: Record<string, unknown> }>('GET', '/v1/model');
    if (m.version !== null && (after === null || m.version > after)) return { model: m, seconds: round((performance.now() - start) / 1000, 2) };
    if (performance.now() - start > timeoutMs) throw new Error(`no model newer than v${after} within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Waits until no retrain runs (background ones started by the backfill). */
async function untilIdle(lane: Lane) {
  for (;;) {
    const m = await lane.json<{ version: number | null; status: string }>('GET', '/v1/model');
    if (m.status !== 'training') return m;
    await sleep(200);
  }
}

// ---- phases ---------------------------------------------------------------------------------------

async function backfill(dir: string, sampler: string) {
  const db = join(dir, 'backfill.db');
  const server = await startServer(sampler, ['serve', '--db', db, '--create', '--port', '0']);
  console.log(`backfill: server pid ${server.pid} at ${server.url} (fresh database)`);
  try {
    const result = await measured(server, '1', async (at) => {
      const busy: [number, number][] = [];
      const lane = new Lane(server.url);
      const movies = join(ROOT, 'data/ml-latest-small/movies.csv');
      const ratings = join(ROOT, 'data/ml-latest-small/ratings.csv');
      let items = 0;
      const itemsStart = performance.now();
      for (const batch of chunks(movieLensMovies(movies), BATCH)) {
        const from = at();
        items += (await lane.json<{ upserted: number }>('POST', '/v1/items', batch)).upserted;
        busy.push([from, at()]);
      }
      const itemsSeconds = (performance.now() - itemsStart) / 1000;
      const batchMs: number[] = [];
      const batchErrors: string[] = [];
      let accepted = 0;
      const ratingsStart = performance.now();
      for (const batch of chunks(movieLensRatings(ratings, Date.now()), BATCH)) {
        const from = at();
        const a = await lane.call('POST', '/v1/feedback', batch, 300_000);
        busy.push([from, at()]);
        batchMs.push(Math.round(a.ms));
        if (a.error || a.status < 200 || a.status > 299) batchErrors.push(`${a.error ?? a.status}: ${a.body.slice(0, 200)}`);
        else accepted += (JSON.parse(a.body) as { accepted: number }).accepted;
      }
      const ratingsSeconds = (performance.now() - ratingsStart) / 1000;
      const idle = await untilIdle(lane);
      const trainStart = performance.now();
      const trainAt = at();
      const { jobId } = await lane.json<{ jobId: string }>('POST', '/v1/model/train');
      const served = await untilServes(lane, idle.version);
      const trainSeconds = (performance.now() - trainStart) / 1000;
      const servedAt = at();
      await sleep(2000);
      lane.close();
      console.log(`  ${items} items in ${itemsSeconds.toFixed(1)} s; ${accepted} ratings in ${ratingsSeconds.toFixed(1)} s; train → v${served.model.version} in ${trainSeconds.toFixed(1)} s`);
      return {
        ingest: {
          itemsUpserted: items, itemsSeconds: round(itemsSeconds, 2), ratingsAccepted: accepted, ratingsSeconds: round(ratingsSeconds, 2),
          batchSize: BATCH, batchMs, batchErrors, waitForBackgroundRetrainSeconds: round((trainStart - ratingsStart) / 1000 - ratingsSeconds, 2),
          /** [from, to] ms since the reset of each items/feedback POST. */
          windows: busy,
        },
        finalTrain: { jobId, requestedAtMs: trainAt, servingAtMs: servedAt, version: served.model.version, secondsUntilServing: round(trainSeconds, 2), metrics: served.model.metrics },
        busy,
      };
    });
    return { ...result, serverStartSeconds: round(server.startMs / 1000, 2), ...(await finish(server)) };
  } finally {
    if (!server.hasExited()) await stopServer(server, 120_000);
  }
}

async function bigRetrain(dir: string, sampler: string) {
  const db = join(dir, 'big.db');
  const prep = performance.now();
  const data = generate({ users: BIG.users, items: BIG.withFeedback, interactions: BIG.events, seed: SEED });
  // Items with feedback are spread over the catalog: feedback item k → catalog item k·step.
  const step = Math.floor(BIG.catalog / BIG.withFeedback);
  const itemsPath = join(dir, 'items.jsonl');
  let text = '';
  for (let i = 0; i < BIG.catalog; i++) text += JSON.stringify({ itemId: `i${i}`, title: `Item ${i}`, categories: [`c${i % CATEGORIES}`, ...(i % 3 === 0 ? [`c${(i * 7) % CATEGORIES}`] : [])] }) + '\n';
  writeFileSync(itemsPath, text);
  const feedbackPath = join(dir, 'feedback.csv');
  const ts = timestamps(data.values.length, SEED);
  const rows = ['userId,itemId,type,value,timestamp'];
  for (let t = 0; t < data.values.length; t++) rows.push(`u${data.userIdx[t]},i${data.itemIdx[t] * step},${data.values[t] > 1 ? 'purchase' : 'click'},,${ts[t]}`);
  writeFileSync(feedbackPath, rows.join('\n') + '\n');
  const probeUser = `u${data.userIdx[0]}`;
  console.log(`big-retrain: ${data.values.length} events, ${data.usedUsers} users, ${data.usedItems} of ${BIG.catalog} items; importing…`);
  const importOut = liverec('import', '--db', db, '--items', itemsPath, '--feedback', feedbackPath).stdout.trim();
  console.log(`  ${importOut.replace(/\n/g, '; ')}; offline train…`);
  const trainOut = JSON.parse(liverec('train', '--db', db, '--json').stdout) as { version: number; metrics: Record<string, unknown> };
  const prepSeconds = (performance.now() - prep) / 1000;
  const server = await startServer(sampler, ['serve', '--db', db, '--port', '0']);
  console.log(`  server pid ${server.pid} at ${server.url}, up in ${(server.startMs / 1000).toFixed(1)} s; retraining…`);
  try {
    const result = await measured(server, probeUser, async (at) => {
      const lane = new Lane(server.url);
      await sleep(1000); // a quiet second first, as a baseline inside the phase
      const before = await untilIdle(lane);
      const trainStart = performance.now();
      const requestedAtMs = at();
      const { jobId } = await lane.json<{ jobId: string }>('POST', '/v1/model/train');
      const served = await untilServes(lane, before.version);
      const trainSeconds = (performance.now() - trainStart) / 1000;
      const servingAtMs = at();
      await sleep(2000);
      lane.close();
      console.log(`  v${before.version} → v${served.model.version} in ${trainSeconds.toFixed(1)} s`);
      return { retrain: { jobId, requestedAtMs, servingAtMs, fromVersion: before.version, toVersion: served.model.version, secondsUntilServing: round(trainSeconds, 2), metrics: served.model.metrics } };
    });
    return {
      ...result,
      data: { events: data.values.length, users: data.usedUsers, itemsWithFeedback: data.usedItems, catalog: BIG.catalog, seed: SEED, import: importOut, offlineModel: { version: trainOut.version, metrics: trainOut.metrics } },
      prepSeconds: round(prepSeconds, 1),
      serverStartSeconds: round(server.startMs / 1000, 2),
      ...(await finish(server)),
    };
  } finally {
    if (!server.hasExited()) await stopServer(server, 120_000);
  }
}

/** SIGTERM and what the server said on stderr (settings line and shutdown notice aside). */
async function finish(server: Server) {
  const diedDuringRun = server.hasExited();
  const stopped = await stopServer(server, 120_000);
  const stderr = server.stderr().replace(/^SIGTERM: shutting down…\n?/m, '').trim();
  return { diedDuringRun, shutdown: { code: stopped.code, signal: stopped.signal, graceful: stopped.graceful }, serverStderr: stderr.slice(0, 2000) };
}

// ---- main ---------------------------------------------------------------------------------------

requireWasm();
const dir = mkdtempSync(join(tmpdir(), 'liverec-lag-'));
process.on('exit', () => {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
});
const sampler = join(dir, 'lag-sampler.mjs');
writeFileSync(sampler, SAMPLER);
console.log(`lag drill${QUICK ? ' (quick)' : ''}: phases ${PHASES}, temp dir ${dir}${KEEP ? ' (kept)' : ''}`);

const results: Record<string, unknown> = {};
const summary = (name: string, r: Awaited<ReturnType<typeof measured>>) =>
  console.log(
    `${name}: ${r.seconds} s; loop delay p50 ${r.loopDelayMs.p50} / p99 ${r.loopDelayMs.p99} / max ${r.loopDelayMs.max} ms; ` +
      `${r.stalls.count} stalls > ${STALL_MS} ms (longest ${r.stalls.longestMs} ms, ${r.stalls.totalMs} ms in all, ${r.stalls.duringIngest.totalMs} ms of it during ingest requests); ` +
      `requests ${r.requests.requests}: p50 ${r.requests.latencyMs.p50} / p99 ${r.requests.latencyMs.p99} / max ${r.requests.latencyMs.max} ms, ` +
      `${r.requests.slowerThan250ms} > ${SLOW_MS} ms, ${r.requests.connectionErrors} connection errors, ${r.requests.non2xx} non-2xx → ${r.pass ? 'PASS' : 'FAIL'} ` +
      `(${Object.entries(r.targets).map(([k, t]) => `${k} ${t.pass ? 'pass' : 'fail'}`).join(', ')})`,
  );
if (PHASES.includes('a')) {
  const r = await backfill(dir, sampler);
  summary('backfill', r);
  results.backfill = r;
}
if (PHASES.includes('b')) {
  const r = await bigRetrain(dir, sampler);
  summary('big-retrain', r);
  results.bigRetrain = r;
}

writeResult('lag', {
  method:
    '`node --import <sampler.mjs> bin/liverec.mjs serve --db <tmp> --port 0` (default settings, request log on). Inside: the preload ' +
    `keeps perf_hooks.monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} }) on the serving thread, reset at each phase start and read at its end ` +
    `over IPC. It records the interval between its timer's ticks (an idle loop reads ≈ ${RESOLUTION_MS} ms): loopDelayMs is the delay beyond that period, judged by the targets; loopIntervalMs keeps the raw intervals. Stalls are gaps > ${STALL_MS} ms between ` +
    `its own ${RESOLUTION_MS} ms ticks. Outside: GET /v1/users/<user>/recommendations?n=10 every ${PROBE_EVERY_MS} ms on one keep-alive connection ` +
    `(node:http Agent, maxSockets 1; the next request waits for the previous answer), from the same machine. ` +
    'backfill: fresh database (serve --create); ml-latest-small movies upserted via POST /v1/items and its 100,836 ratings via POST /v1/feedback ' +
    `in arrays of ${BATCH} on a second keep-alive connection, one after the other (background retrains every 10,000 events by default); ` +
    'then, once no retrain runs, POST /v1/model/train and GET /v1/model until the new version serves, plus 2 s. ' +
    `big-retrain: synthetic ${BIG.events.toLocaleString('en-US')} click/purchase events (bench/synthetic.ts, Zipf items, log-normal users) over ` +
    `${BIG.withFeedback.toLocaleString('en-US')} of ${BIG.catalog.toLocaleString('en-US')} catalog items with categories, \`liverec import\` + \`liverec train\` ` +
    'offline, then serve, 1 s quiet, POST /v1/model/train, until the new version serves, plus 2 s. ' +
    `Targets: loop delay p99 ≤ ${TARGETS.loopDelayP99Ms} ms and max ≤ ${TARGETS.loopDelayMaxMs} ms, no request > ${SLOW_MS} ms, 0 connection errors.`,
  targets: TARGETS,
  results,
});

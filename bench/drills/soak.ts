/**
 * Soak drill: does the server stay correct and flat in memory under sustained mixed load?
 *
 *   npm run drill:soak [-- --minutes 10 --connections 10 --sample-seconds 5 --seed 1 --keep]
 *
 * Starts `node bin/liverec.mjs demo --db <tmp> --port 0` (imports MovieLens ml-latest-small,
 * trains implicit ALS, serves with the default engine config — so background retrains every
 * 10,000 new events happen during the run), then drives it with autocannon for `--minutes`:
 *   70% GET  /v1/users/:id/recommendations   (random MovieLens users; 5% never-seen users)
 *   20% POST /v1/feedback?n=10               (random user, random rated movie, view/click/cart/purchase/like/rating)
 *   10% GET  /v1/items/:id/similar · /v1/users/:id/similar · /v1/popular · /v1/users/:id/profile
 * Every request is valid, so the requirement is 0 non-2xx answers and 0 socket errors/timeouts.
 * The server's RSS is read from /proc/<pid>/status (VmRSS) every `--sample-seconds`; the RSS slope
 * is the least-squares fit in MB/min over the second half of the run (the first half is warm-up:
 * JIT, caches, the first retrain). At the end the server is stopped with SIGTERM (must exit 0).
 *
 * Writes bench/results/soak.json. Exit code 1 on any error response, socket error or timeout, an
 * unclean shutdown, or the server dying.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { arg, distribution, ROOT, writeResult } from '../lib.ts';
import { between, getJson, intArg, requireWasm, rng, startServer, stopServer } from './child.ts';

const MINUTES = Number(arg('minutes', '10'));
if (!(Number.isFinite(MINUTES) && MINUTES > 0)) throw new Error(`--minutes must be a positive number, got ${arg('minutes', '10')}`);
const CONNECTIONS = intArg(arg('connections', '10'), 'connections', 1);
const SAMPLE_SECONDS = intArg(arg('sample-seconds', '5'), 'sample-seconds', 1);
const SEED = intArg(arg('seed', String(Date.now() % 1_000_000)), 'seed', 0);
const KEEP = process.argv.includes('--keep');

const MIX = { recommendations: 0.7, feedback: 0.2, other: 0.1 } as const;
const FEEDBACK_TYPES = ['view', 'click', 'cart', 'purchase', 'like', 'rating'] as const;
type Kind = 'recommendations' | 'feedback' | 'itemSimilar' | 'userSimilar' | 'popular' | 'profile';

requireWasm();
const random = rng(SEED);
const { users, items } = movieLensIds();
const dir = mkdtempSync(join(tmpdir(), 'liverec-soak-'));
const db = join(dir, 'soak.db');
process.on('exit', () => {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
});

console.log(`soak drill: ${MINUTES} min, ${CONNECTIONS} connections, RSS every ${SAMPLE_SECONDS} s, seed ${SEED}`);
console.log(`starting demo on ${db} (import + train)…`);
const server = await startServer(['demo', '--db', db, '--port', '0'], 600_000);
const url = server.url;
const startHealth = await getJson<{ model: { version: number | null; status: string }; feedback: number; items: number }>(`${url}/health`);
console.log(`server pid ${server.pid} at ${url}, ready after ${(server.startMs / 1000).toFixed(1)} s; model v${startHealth.model.version}, ${startHealth.feedback} events`);

// ---- RSS and model sampling --------------------------------------------------------------------

interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssMB: number;
  modelVersion: number | null;
  modelStatus: string;
  /** From the server's /metrics: V8 heap in use and reserved, and memory outside it (WebAssembly included). */
  heapUsedMB: number | null;
  heapTotalMB: number | null;
  externalMB: number | null;
}
const samples: Sample[] = [];
const loadStart = performance.now();
const sample = async () => {
  const t = (performance.now() - loadStart) / 1000;
  const rssMB = readRssMB(server.pid);
  if (rssMB === null) return;
  let modelVersion: number | null = null;
  let modelStatus = 'unreachable';
  try {
    const health = await getJson<{ model: { version: number | null; status: string } }>(`${url}/health`);
    modelVersion = health.model.version;
    modelStatus = health.model.status;
  } catch {
    // Reported as 'unreachable' in the sample; autocannon's figures show whether requests failed.
  }
  const memory = await serverMemory();
  samples.push({ t, rssMB, modelVersion, modelStatus, ...memory });
};

/** The server's own view of its memory (/metrics), to tell a growing heap from V8 keeping slack. */
async function serverMemory(): Promise<Pick<Sample, 'heapUsedMB' | 'heapTotalMB' | 'externalMB'>> {
  const mb = (text: string, name: string) => {
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    return value === undefined ? null : Math.round((Number(value) / 2 ** 20) * 10) / 10;
  };
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    return { heapUsedMB: mb(text, 'nodejs_heap_size_used_bytes'), heapTotalMB: mb(text, 'nodejs_heap_size_total_bytes'), externalMB: mb(text, 'nodejs_external_memory_bytes') };
  } catch {
    return { heapUsedMB: null, heapTotalMB: null, externalMB: null };
  }
}
await sample();
const sampler = setInterval(() => void sample(), SAMPLE_SECONDS * 1000);
const progress = setInterval(() => {
  const last = samples.at(-1);
  if (last) console.log(`  t=${last.t.toFixed(0).padStart(4)} s  RSS ${last.rssMB.toFixed(1)} MB (heap ${last.heapUsedMB} of ${last.heapTotalMB} MB, external ${last.externalMB} MB)  model v${last.modelVersion} ${last.modelStatus}`);
}, 60_000);

// ---- the load ---------------------------------------------------------------------------------

const sentByKind: Record<Kind, number> = { recommendations: 0, feedback: 0, itemSimilar: 0, userSimilar: 0, popular: 0, profile: 0 };
const statusByKind: Record<string, Record<string, number>> = {};
const errorSamples: string[] = [];
let newUsers = 0;

function pickRequest(): { kind: Kind; method: 'GET' | 'POST'; path: string; body?: string } {
  const r = random();
  const user = () => users[between(random, 0, users.length - 1)];
  const item = () => items[between(random, 0, items.length - 1)];
  if (r < MIX.recommendations) {
    // A few never-seen users: cold start (popularity), never a 404.
    const userId = random() < 0.05 ? `soak-new-${newUsers++}` : user();
    return { kind: 'recommendations', method: 'GET', path: `/v1/users/${encodeURIComponent(userId)}/recommendations?n=10` };
  }
  if (r < MIX.recommendations + MIX.feedback) {
    const type = FEEDBACK_TYPES[between(random, 0, FEEDBACK_TYPES.length - 1)];
    const event: Record<string, unknown> = { userId: user(), itemId: item(), type };
    if (type === 'rating') event.value = between(random, 1, 10) / 2;
    return { kind: 'feedback', method: 'POST', path: '/v1/feedback?n=10', body: JSON.stringify(event) };
  }
  const which = between(random, 0, 3);
  if (which === 0) return { kind: 'itemSimilar', method: 'GET', path: `/v1/items/${item()}/similar?n=10` };
  if (which === 1) return { kind: 'userSimilar', method: 'GET', path: `/v1/users/${user()}/similar?n=10` };
  if (which === 2) return { kind: 'popular', method: 'GET', path: '/v1/popular?n=10' };
  return { kind: 'profile', method: 'GET', path: `/v1/users/${user()}/profile` };
}

const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url,
      connections: CONNECTIONS,
      duration: Math.round(MINUTES * 60),
      timeout: 30,
      requests: [
        {
          setupRequest: (request, context) => {
            const next = pickRequest();
            sentByKind[next.kind]++;
            context.kind = next.kind;
            return {
              ...request,
              method: next.method,
              path: next.path,
              headers: next.body ? { 'content-type': 'application/json' } : {},
              body: next.body ?? '',
            };
          },
          // Called before the next request on this connection is built, so context.kind is this response's.
          onResponse: (status: number, body: string, context: Record<string, unknown>) => {
            const kind = String(context.kind);
            const byStatus = (statusByKind[kind] ??= {});
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            if ((status < 200 || status > 299) && errorSamples.length < 20) errorSamples.push(`${kind} ${status}: ${body.slice(0, 300)}`);
          },
        } as autocannon.Request,
      ],
    },
    (err, res) => (err ? reject(err) : resolve(res)),
  );
  process.once('SIGINT', () => instance.stop());
});
clearInterval(sampler);
clearInterval(progress);
await sample();

const diedDuringRun = server.hasExited();
const stopped = await stopServer(server, 120_000);
const stderr = server.stderr().replace(/^(first run: importing.*|training .*|model version \d+ ready|SIGTERM: shutting down…)\n?/gm, '').trim();

// ---- figures ----------------------------------------------------------------------------------

const half = (MINUTES * 60) / 2;
const late = samples.filter((s) => s.t >= half);
const slope = leastSquaresSlope(late.map((s) => s.t / 60), late.map((s) => s.rssMB));
const rss = samples.map((s) => s.rssMB);
const versions = samples.map((s) => s.modelVersion).filter((v): v is number => v !== null);
const retrainsObserved = new Set(versions).size - 1;
const non2xx = result.non2xx;
const results = {
  minutes: MINUTES,
  connections: CONNECTIONS,
  seed: SEED,
  requests: result.requests.total ?? sumCounts(statusByKind),
  responses2xx: result['2xx'],
  non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  throughputRps: { mean: result.requests.average, p50: result.requests.p50, min: result.requests.min, max: result.requests.max },
  latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
  mix: sentByKind,
  statusByKind,
  rss: {
    startMB: rss[0],
    endMB: rss.at(-1),
    peakMB: Math.max(...rss),
    slopeMBPerMinSecondHalf: slope.slope,
    slopeR2: slope.r2,
    secondHalfSamples: late.length,
    summaryMB: distribution(rss),
    // Retrains make RSS saw-tooth (a second model is fitted, then the old one is dropped), so the
    // floor between retrains is a steadier leak signal than a slope over a few teeth.
    minMBByModelVersion: minByVersion(samples),
    samples: samples.map((s) => [Math.round(s.t * 10) / 10, Math.round(s.rssMB * 10) / 10, s.modelVersion, s.modelStatus, s.heapUsedMB, s.heapTotalMB, s.externalMB]),
    sampleColumns: ['t (s)', 'RSS (MB)', 'model version', 'model status', 'heap used (MB)', 'heap total (MB)', 'external (MB)'],
  },
  model: { startVersion: startHealth.model.version, endVersion: versions.at(-1) ?? null, retrainsObserved },
  startupSeconds: server.startMs / 1000,
  shutdown: { code: stopped.code, signal: stopped.signal, graceful: stopped.graceful },
  serverStderr: stderr.slice(0, 2000),
  errorSamples,
};

console.log(
  `\n${results.requests} requests in ${MINUTES} min: ${results.responses2xx} 2xx, ${non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts; ` +
    `${result.requests.average.toFixed(0)} req/s mean; latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
);
console.log(`mix: ${JSON.stringify(sentByKind)}`);
console.log(
  `RSS: start ${rss[0].toFixed(1)} MB, end ${rss.at(-1)!.toFixed(1)} MB, peak ${results.rss.peakMB.toFixed(1)} MB; ` +
    `slope over the second half ${slope.slope.toFixed(2)} MB/min (R² ${slope.r2.toFixed(2)}, ${late.length} samples)`,
);
console.log(`RSS floor per serving model version (MB): ${JSON.stringify(results.rss.minMBByModelVersion)}`);
console.log(`model v${results.model.startVersion} → v${results.model.endVersion} (${retrainsObserved} background retrains seen); shutdown ${stopped.graceful ? 'graceful' : `FAILED (${stopped.code ?? stopped.signal})`}`);
if (stderr) console.log(`server stderr:\n${stderr.slice(0, 2000)}`);
for (const s of errorSamples.slice(0, 5)) console.log(`error sample: ${s}`);

writeResult('soak', {
  method:
    `\`node bin/liverec.mjs demo --db <tmp> --port 0\` (ml-latest-small imported, implicit ALS trained, default engine config: ` +
    `background retrain every 10,000 new events), then autocannon for ${MINUTES} min with ${CONNECTIONS} connections (pipelining 1) ` +
    'from the same machine: 70% GET recommendations (random MovieLens users, 5% never-seen users), 20% POST /v1/feedback ' +
    '(random user × rated movie, view/click/cart/purchase/like/rating), 10% split evenly over GET item similar, user similar, ' +
    `popular and profile. Server RSS = VmRSS from /proc/<pid>/status every ${SAMPLE_SECONDS} s; slope = least-squares MB/min ` +
    'over the samples of the second half of the run. non2xx counts every answer outside 200–299.',
  results,
});

const failed = non2xx > 0 || result.errors > 0 || result.timeouts > 0 || !stopped.graceful || diedDuringRun;
console.log(failed ? 'SOAK DRILL FAILED' : 'soak drill passed');
process.exitCode = failed ? 1 : 0;

// ---------------------------------------------------------------------------------------------

/** MovieLens user ids and the movie ids that have at least one rating (so similar never 404s). */
function movieLensIds(): { users: string[]; items: string[] } {
  const text = readFileSync(join(ROOT, 'data/ml-latest-small/ratings.csv'), 'utf8');
  const userSet = new Set<string>();
  const itemSet = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const [user, item] = line.split(',');
    userSet.add(user);
    itemSet.add(item);
  }
  return { users: [...userSet], items: [...itemSet] };
}

function readRssMB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null; // exited
  }
}

/** Least-squares slope of y over x, and the fit's R². */
function leastSquaresSlope(x: number[], y: number[]): { slope: number; r2: number } {
  const n = x.length;
  if (n < 2) return { slope: NaN, r2: NaN };
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** The lowest RSS seen while each model version was serving. */
function minByVersion(list: Sample[]): Record<string, number> {
  const floors: Record<string, number> = {};
  for (const { modelVersion, rssMB } of list) {
    const k = String(modelVersion);
    floors[k] = Math.round(Math.min(floors[k] ?? Infinity, rssMB) * 10) / 10;
  }
  return floors;
}

function sumCounts(byKind: Record<string, Record<string, number>>): number {
  return Object.values(byKind).reduce((s, m) => s + Object.values(m).reduce((a, b) => a + b, 0), 0);
}

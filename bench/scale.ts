/**
 * The 25M-event run (`npm run bench -- --scale`; not in the default list): the whole life of a
 * large shop through the real CLI, each step its own process as an operator would run it.
 *   1. bench/synthetic.ts writes a `liverec import --feedback` CSV: 250k users × 100k items,
 *      25M distinct pairs, Zipf-1 item popularity, log-normal user activity (reused when present).
 *   2. `liverec import` loads it into a fresh SQLite file                  target ≤ 60 s
 *   3. `liverec train` fits implicit ALS (64 factors) on 2 threads        target ≤ 90 s
 *   4. `liverec serve` on the result: RSS after recommendations and posted feedback, against
 *      the raw bytes (users + items) × k × 4 + nnz × 12.
 * Every step records wall time, CPU time and peak RSS (GNU time) and the 1-minute load average
 * sampled while it ran: the machine is shared, so wall times over a loaded machine overstate.
 * Big files go to --dir (default /tmp/scale-data) and are deleted at the end unless --keep.
 *
 *   npx tsx bench/scale.ts [--events 25000000 --users 250000 --items 100000] [--dir /tmp/scale-data] [--keep]
 *   npx tsx bench/scale.ts --quick      2.5M events, 25k users × 10k items
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, arg, isQuick, writeResult } from './lib.ts';

const quick = isQuick();
const events = Number(arg('events', quick ? '2500000' : '25000000'));
const users = Number(arg('users', quick ? '25000' : '250000'));
const items = Number(arg('items', quick ? '10000' : '100000'));
const dir = arg('dir', '/tmp/scale-data');
const keep = process.argv.includes('--keep');
const TARGETS = { importSeconds: 60, trainSeconds: 90 };
const FACTORS = 64;
const LIVEREC = join(ROOT, 'bin/liverec.mjs');

interface Step {
  wallSeconds: number;
  /** User + system CPU seconds of the process and its threads (GNU time); null without /usr/bin/time. */
  cpuSeconds: number | null;
  peakRssBytes: number | null;
  loadAverage1m: { min: number; max: number; mean: number };
  stdout: string;
  stderr: string;
}

/** Runs a command to its end under GNU time when available, sampling the load average every 2 s. */
async function timed(command: string, args: string[]): Promise<Step> {
  const timeFile = join(dir, 'time.txt');
  const gnuTime = existsSync('/usr/bin/time');
  const [file, argv] = gnuTime ? ['/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', command, ...args]] : [command, args];
  const load = [loadavg()[0]];
  const timer = setInterval(() => load.push(loadavg()[0]), 2_000);
  const start = performance.now();
  const child = spawn(file, argv, { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const wallSeconds = (performance.now() - start) / 1000;
  clearInterval(timer);
  load.push(loadavg()[0]);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`);
  let cpuSeconds = null;
  let peakRssBytes = null;
  if (gnuTime) {
    const [user, system, maxKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    cpuSeconds = user + system;
    peakRssBytes = maxKb * 1024;
  }
  return { wallSeconds, cpuSeconds, peakRssBytes, loadAverage1m: summary(load), stdout, stderr };
}

function summary(values: number[]): { min: number; max: number; mean: number } {
  const round = (x: number) => Math.round(x * 100) / 100;
  return { min: round(Math.min(...values)), max: round(Math.max(...values)), mean: round(values.reduce((a, b) => a + b, 0) / values.length) };
}

const brief = ({ stdout, stderr, ...step }: Step) => step;

mkdirSync(dir, { recursive: true });
const csv = join(dir, `feedback-${users}x${items}-${events}.csv`);
const db = join(dir, 'scale.db');
const paramsFile = join(dir, 'params.json');
const removeDb = () => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
};

try {
  // 1. The CSV (deterministic for a seed, so an existing one is the same file).
  let generateStep = null;
  if (!existsSync(csv)) {
    console.log(`generating ${csv}…`);
    generateStep = brief(await timed(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/synthetic.ts'), '--users', String(users), '--items', String(items),
      '--interactions', String(events), '--seed', '1', '--feedback', '--out', csv]));
  }
  const csvBytes = statSync(csv).size;

  // 2. Import into a fresh file.
  removeDb();
  console.log(`importing ${events.toLocaleString('en-US')} events (load average ${loadavg()[0].toFixed(2)})…`);
  const importStep = await timed(process.execPath, [LIVEREC, 'import', '--db', db, '--feedback', csv]);
  console.log(`  ${importStep.stdout.trim()} in ${importStep.wallSeconds.toFixed(1)} s`);

  // 3. Train implicit ALS on 2 threads.
  writeFileSync(paramsFile, JSON.stringify({ algorithm: 'implicit-als', params: { factors: FACTORS, threads: 2 } }));
  console.log(`training (load average ${loadavg()[0].toFixed(2)})…`);
  const trainStep = await timed(process.execPath, [LIVEREC, 'train', '--db', db, '--params', paramsFile, '--json']);
  const model = JSON.parse(trainStep.stdout) as { metrics: { readSeconds: number; fitSeconds: number; users: number; items: number; interactions: number } };
  console.log(`  trained in ${trainStep.wallSeconds.toFixed(1)} s (read ${model.metrics.readSeconds.toFixed(1)} s, fit ${model.metrics.fitSeconds.toFixed(1)} s)`);

  // 4. Serve it, exercise it, read its RSS.
  console.log(`serving (load average ${loadavg()[0].toFixed(2)})…`);
  const { serving, rawBytes } = await measureServing(model.metrics);

  const importSeconds = importStep.wallSeconds;
  const trainSeconds = trainStep.wallSeconds;
  writeResult('scale', {
    method:
      'bench/scale.ts: the real CLI, one process per step, on a shared 2-core machine. A synthetic `liverec import --feedback` CSV (bench/synthetic.ts, seed 1: ' +
      'Zipf-1 items, log-normal users; a pair drawn once is a view, twice a click, three times or more a purchase; times uniform over 2024) is imported into a fresh ' +
      'SQLite file, implicit ALS (64 factors, 15 iterations, threads 2) is trained with `liverec train`, and `liverec serve` answers recommendations for 200 users and ' +
      '100 posted events before its RSS is read from /proc. Wall and CPU seconds (GNU time, all threads) and the 1-minute load average sampled while each step ran: ' +
      'CPU seconds are what the step costs, wall seconds what it took on a machine shared with other jobs.',
    dataset: { users, items, events, csvBytes, seed: 1 },
    targets: TARGETS,
    results: {
      generate: generateStep,
      import: { ...brief(importStep), summary: importStep.stdout.trim(), eventsPerSecond: events / importSeconds, dbBytes: dbBytes(), holds: importSeconds <= TARGETS.importSeconds },
      train: { ...brief(trainStep), readSeconds: model.metrics.readSeconds, fitSeconds: model.metrics.fitSeconds, sizes: { users: model.metrics.users, items: model.metrics.items, interactions: model.metrics.interactions }, holds: trainSeconds <= TARGETS.trainSeconds },
      serve: { ...serving, rawBytes, rssOverRaw: serving.rssBytes / rawBytes.total },
    },
  });
} finally {
  if (!keep) {
    removeDb();
    rmSync(csv, { force: true });
    rmSync(paramsFile, { force: true });
    rmSync(join(dir, 'time.txt'), { force: true });
  }
}

function dbBytes(): number {
  return ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(db + suffix) ? statSync(db + suffix).size : 0), 0);
}

/**
 * Starts `liverec serve`, asks for 200 users' recommendations (half of them again, from the
 * history cache) and posts 100 events one by one (each a fold-in), then reads VmRSS / VmHWM.
 */
async function measureServing(sizes: { users: number; items: number; interactions: number }) {
  const rawBytes = {
    factors: (sizes.users + sizes.items) * FACTORS * 4,
    interactions: sizes.interactions * 12,
    total: (sizes.users + sizes.items) * FACTORS * 4 + sizes.interactions * 12,
  };
  const started = performance.now();
  const child = spawn(process.execPath, [LIVEREC, 'serve', '--db', db, '--port', '0', '--log', 'off'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const match = /listening on (\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const startSeconds = (performance.now() - started) / 1000;
    const rssAt = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]) * 1024;
      return { rss: kb('VmRSS'), peak: kb('VmHWM') };
    };
    const atStart = rssAt();
    const latency: number[] = [];
    const call = async (path: string, init?: RequestInit) => {
      const t = performance.now();
      const response = await fetch(url + path, init);
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
      latency.push(performance.now() - t);
    };
    const user = (k: number) => `u${(k * 7919) % users}`;
    for (let k = 0; k < 200; k++) await call(`/v1/users/${user(k)}/recommendations`);
    for (let k = 0; k < 100; k++) await call(`/v1/users/${user(k)}/recommendations`);
    const now = Date.now();
    for (let k = 0; k < 100; k++) {
      const body = JSON.stringify({ userId: user(k), itemId: `i${(k * 104729) % items}`, type: 'click', timestamp: now - k });
      await call('/v1/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    }
    const after = rssAt();
    latency.sort((a, b) => a - b);
    return {
      rawBytes,
      serving: {
        startSeconds,
        rssAtStartBytes: atStart.rss,
        rssBytes: after.rss,
        peakRssBytes: after.peak,
        requests: latency.length,
        latencyMs: { p50: latency[Math.floor(latency.length / 2)], p99: latency[Math.floor(latency.length * 0.99)], max: latency[latency.length - 1] },
        loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      },
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

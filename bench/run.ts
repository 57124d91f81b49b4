/**
 * `npm run bench`: every speed benchmark in sequence, each in its own child process (so memory
 * figures are clean and one crash does not stop the rest), then bench/report.ts to regenerate
 * the README's results section. Benchmarks, not tests: nothing here fails on a timing.
 *
 *   npm run bench                      full run (≈ 12–17 min on 2 cores)
 *   npm run bench -- --quick           reduced sizes and runs, results in bench/results/quick/,
 *                                      README untouched (the report is printed instead)
 *   npm run bench -- --only fit,http   a subset, then the report over all results on disk
 *   npm run bench -- --only throughput SQLite vs PostgreSQL throughput (needs initdb/postgres installed)
 *   npm run bench -- --scale           the 25M-event run (bench/scale.ts, ≈ 20–40 min, ~3 GB in /tmp), only when asked
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, arg, isQuick, resultsDir, writeResult } from './lib.ts';

// throughput: SQLite vs PostgreSQL (1 and 2 servers) over HTTP; it starts a private PostgreSQL.
const SCRIPTS = ['fit', 'kernels', 'foldin', 'http', 'throughput', 'memory', 'retrain', 'startup'];
// Run only when named (--scale or --only scale): it takes half an hour and gigabytes of disk.
const ON_REQUEST = ['scale'];
const KNOWN = [...SCRIPTS, ...ON_REQUEST];
const quick = isQuick();
const only = process.argv.includes('--scale') ? 'scale' : arg('only', '');
const selected = only ? only.split(',').map((s) => s.trim()) : SCRIPTS;
for (const s of selected) if (!KNOWN.includes(s)) throw new Error(`unknown benchmark '${s}': expected some of ${KNOWN.join(', ')}`);

/** Runs bench/<name>.ts in a child node; resolves with its exit code and the 1-minute load averages seen meanwhile. */
async function runScript(file: string, args: string[]): Promise<{ code: number; seconds: number; load: number[] }> {
  const load = [loadavg()[0]];
  const timer = setInterval(() => load.push(loadavg()[0]), 5_000);
  const start = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', file), ...args], { cwd: ROOT, stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  load.push(loadavg()[0]);
  return { code: code ?? 1, seconds: (performance.now() - start) / 1000, load };
}

const flags = quick ? ['--quick'] : [];
const runs: Array<{ script: string; ok: boolean; exitCode: number; seconds: number; loadAverage1m: { min: number; max: number; mean: number } }> = [];
const started = performance.now();
for (const name of selected) {
  console.log(`\n=== bench/${name}.ts${quick ? ' --quick' : ''} (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}) ===`);
  const r = await runScript(`${name}.ts`, flags);
  const loadSummary = { min: Math.min(...r.load), max: Math.max(...r.load), mean: r.load.reduce((a, b) => a + b, 0) / r.load.length };
  console.log(`=== ${name}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(0)} s, 1-min load average ${loadSummary.min.toFixed(2)}–${loadSummary.max.toFixed(2)} ===`);
  runs.push({ script: `bench/${name}.ts`, ok: r.code === 0, exitCode: r.code, seconds: r.seconds, loadAverage1m: loadSummary });
}

// A partial run (--only) keeps the other scripts' entries from the last run.
const previous = join(resultsDir(), 'run.json');
const kept: Array<{ script: string }> = only && existsSync(previous) ? JSON.parse(readFileSync(previous, 'utf8')).results : [];
const merged = [...kept.filter((k) => !runs.some((r) => r.script === k.script)), ...runs];
merged.sort((a, b) => KNOWN.indexOf(a.script.slice(6, -3)) - KNOWN.indexOf(b.script.slice(6, -3)));

writeResult('run', {
  method: 'bench/run.ts: each benchmark in its own child process, in sequence; the 1-minute load average sampled every 5 s while each ran (other jobs on the machine skew timings).',
  totalSeconds: (performance.now() - started) / 1000,
  results: merged,
});

const report = await runScript('report.ts', flags);
const failed = runs.filter((r) => !r.ok).map((r) => r.script);
if (failed.length > 0 || report.code !== 0) {
  console.error(`\nfailed: ${[...failed, ...(report.code !== 0 ? ['bench/report.ts'] : [])].join(', ')}`);
  process.exitCode = 1;
}

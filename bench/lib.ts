/**
 * Shared helpers for the speed benchmarks: timing, percentiles, machine description, argument
 * flags and result files. Benchmarks record numbers; nothing here asserts on a wall-clock time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, arch, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Interactions } from '../src/data/interactions.ts';
import { readInteractions, type RatingRow } from '../src/eval/readers.ts';
import { densify, generate, type SyntheticOptions } from './synthetic.ts';

/** The repository root (bench/..), with a trailing slash. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The MovieLens small ratings every "real data" benchmark uses. */
export const ML_SMALL = join(ROOT, 'data/ml-latest-small/ratings.csv');

export interface MeasureOptions {
  /** Untimed calls first (JIT tiers, page-ins). Default 1. */
  warmup?: number;
  /** Timed calls. Default 5. */
  runs?: number;
  /** Untimed work before every call, warm-ups included (e.g. a GC, resetting state). */
  before?: () => unknown;
}

export interface Measurement {
  /** Median of `runs`, in seconds. */
  median: number;
  /** Same as median (named for symmetry with p99). */
  p50: number;
  /** 99th percentile, only when there are at least 20 runs to take it from. */
  p99?: number;
  /** Every timed run, in seconds, in the order they ran. */
  runs: number[];
}

/** Times `fn` (sync or async) `runs` times after `warmup` untimed calls. Seconds. */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Measurement> {
  const { warmup = 1, runs = 5, before } = options;
  for (let i = 0; i < warmup; i++) {
    await before?.();
    await fn();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    const start = performance.now();
    await fn();
    times.push((performance.now() - start) / 1000);
  }
  const median = percentile(times, 50);
  return { median, p50: median, ...(times.length >= 20 && { p99: percentile(times, 99) }), runs: times };
}

/** The p-th percentile (0–100) by linear interpolation between closest ranks. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return percentileSorted(sorted, p);
}

/** percentile() for an already ascending array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** p50/p90/p99/max/mean of a sample, in the sample's unit. */
export function distribution(values: ArrayLike<number>): { count: number; mean: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  totalMemoryBytes: number;
  platform: string;
  arch: string;
  osRelease: string;
  /** 1/5/15-minute load averages when the result was written: other jobs skew timings. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    node: process.version,
    totalMemoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Whether `--quick` (reduced sizes, fewer runs: a smoke check) was passed. */
export function isQuick(argv = process.argv): boolean {
  return argv.includes('--quick');
}

/** The value after `--name`, or `fallback`. */
export function arg(name: string, fallback: string, argv = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** Where results go: bench/results, or bench/results/quick for `--quick` smoke runs. */
export function resultsDir(quick = isQuick()): string {
  return join(ROOT, 'bench/results', quick ? 'quick' : '');
}

/**
 * Writes bench/results/<name>.json as { machine, date, method, results } (bench/results/quick/
 * for --quick runs, so a smoke check never overwrites real numbers). Returns the path.
 */
export function writeResult(name: string, data: { method: unknown; results: unknown; [key: string]: unknown }): string {
  const path = join(resultsDir(), `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  const { method, results, ...rest } = data;
  const body = { machine: machineInfo(), date: new Date().toISOString(), quick: isQuick(), method, ...rest, results };
  writeFileSync(path, JSON.stringify(body, null, 2) + '\n');
  console.log(`wrote ${path.slice(ROOT.length)}`);
  return path;
}

/** Seconds → a short human string for console progress lines. */
export function fmtSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(2)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

/** Resident set size and heap figures in bytes. */
export function memorySnapshot(): { rss: number; heapUsed: number; external: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Runs the GC when node was started with --expose-gc (the memory benchmark is). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

let mlRows: RatingRow[] | null = null;

/** ml-latest-small's ratings, read once per process. */
export function mlSmallRows(): RatingRow[] {
  return (mlRows ??= readInteractions(ML_SMALL));
}

/**
 * ml-latest-small as model input, the way `liverec eval` builds it: rating models see the
 * ratings (a user's last rating of an item), implicit models weight 1 per (user, item).
 */
export function mlSmallInteractions(explicit: boolean): Interactions {
  return Interactions.from(
    mlSmallRows().map((r) => ({ userId: r.user, itemId: r.item, value: explicit ? r.value : 1 })),
    explicit ? 'last' : 'sum',
  );
}

/** Synthetic interactions (bench/synthetic.ts) as model input, with string ids u<n> / i<n>. */
export function syntheticInteractions(options: SyntheticOptions): Interactions {
  const d = densify(generate(options));
  return Interactions.fromArrays(d.users, d.items, d.userIdx, d.itemIdx, d.values);
}

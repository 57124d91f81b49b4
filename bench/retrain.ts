/**
 * The serving side of a retrain: `engine.trainNow()` on a file database, from the request until
 * the new model serves (the training thread's scan of the log, the fit, cold-item placement,
 * segments, the registry write, then the load and swap here), at 1 and 2 training threads
 * (`params.threads`), with the serving thread's event-loop delay sampled throughout. Median of
 * `runs` retrains per setting; the first retrain of each setting is a warm-up and not counted.
 *
 *   npx tsx bench/retrain.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { movieLensMovies, movieLensRatings } from '../src/cli/import-sources.ts';
import { Engine } from '../src/engine/engine.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { FeedbackInput, ItemInput } from '../src/store/types.ts';
import { ROOT, isQuick, writeResult } from './lib.ts';
import { generate } from './synthetic.ts';

const quick = isQuick();
const RUNS = quick ? 2 : 5;
const BATCH = 50_000;

interface Dataset {
  name: string;
  items: ItemInput[];
  events: () => Iterable<FeedbackInput>;
}

function movieLens(): Dataset {
  const dir = join(ROOT, 'data/ml-latest-small');
  const ok = <T>(rows: Iterable<{ value: T } | { reason: string }>) => [...rows].flatMap((r) => ('value' in r ? [r.value] : []));
  const ratings = ok(movieLensRatings(join(dir, 'ratings.csv'), Date.now()));
  return { name: 'ml-latest-small', items: ok(movieLensMovies(join(dir, 'movies.csv'))), events: () => ratings };
}

/** Popularity-skewed clicks over a catalog where 70 % of items never get any. */
function synthetic(users: number, items: number, interactions: number): Dataset {
  const data = generate({ users, items: Math.round(items * 0.3), interactions, seed: 11 });
  const categories = (i: number) => [`c${i % 50}`, `d${i % 7}`];
  return {
    name: `synthetic ${users / 1000}k users × ${items / 1000}k items (70 % cold) × ${interactions / 1e6}M`,
    items: Array.from({ length: items }, (_, i) => ({ itemId: `i${i}`, categories: categories(i) })),
    *events() {
      for (let t = 0; t < data.values.length; t++) {
        yield { userId: `u${data.userIdx[t]}`, itemId: `i${data.itemIdx[t]}`, type: 'click', value: null, timestamp: 1_700_000_000_000 + t * 1000 };
      }
    },
  };
}

async function load(path: string, dataset: Dataset): Promise<void> {
  const store = SqliteStore.open(path);
  await store.upsertItems(dataset.items);
  let batch: FeedbackInput[] = [];
  for (const e of dataset.events()) {
    batch.push(e);
    if (batch.length === BATCH) (await store.addFeedback(batch, { createMissingItems: true }), (batch = []));
  }
  if (batch.length > 0) await store.addFeedback(batch, { createMissingItems: true });
  await store.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const datasets = [movieLens(), quick ? synthetic(20_000, 20_000, 200_000) : synthetic(50_000, 100_000, 1_000_000)];
const results = [];
for (const dataset of datasets) {
  const dir = mkdtempSync(join(tmpdir(), 'liverec-retrain-'));
  const path = join(dir, 'bench.db');
  await load(path, dataset);
  const byThreads = new Map<number, number>();
  for (const threads of [1, 2]) {
    const store = SqliteStore.open(path);
    const engine = await Engine.open(store, { params: { threads }, retrainMinutes: 0, retrainEvery: 0 });
    const seconds: number[] = [];
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let metrics: Record<string, unknown> = {};
    for (let run = 0; run <= RUNS; run++) {
      if (run === 1) delay.enable();
      const start = performance.now();
      metrics = (await engine.trainNow()).metrics;
      if (run > 0) seconds.push((performance.now() - start) / 1000);
    }
    delay.disable();
    await engine.close();
    await store.close();
    byThreads.set(threads, median(seconds));
    const result = {
      dataset: dataset.name, threads, runs: RUNS, medianSeconds: median(seconds), seconds,
      readSeconds: metrics.readSeconds, fitSeconds: metrics.fitSeconds, users: metrics.users, items: metrics.items, interactions: metrics.interactions,
      eventLoopDelayMs: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      speedup: threads > 1 ? byThreads.get(1)! / median(seconds) : 1,
    };
    results.push(result);
    console.log(`${dataset.name}, ${threads} thread(s): median ${result.medianSeconds.toFixed(2)} s, event-loop delay p99 ${result.eventLoopDelayMs.p99.toFixed(1)} ms, max ${result.eventLoopDelayMs.max.toFixed(1)} ms${threads > 1 ? `, ${result.speedup.toFixed(2)}× vs 1 thread` : ''}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

writeResult('retrain', {
  method:
    'bench/retrain.ts: Engine.trainNow() over a SQLite file (implicit ALS, default params but `threads`), timed from the call until the new model serves; the training thread reads the log on its own connection. ' +
    `Median of ${RUNS} retrains after one warm-up; the serving thread's event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) sampled over the timed retrains.`,
  results,
});

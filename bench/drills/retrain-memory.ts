/**
 * Retrain-memory drill: does each background retrain leave memory behind?
 *
 * Opens an engine over a temporary store holding MovieLens ml-latest-small (implicit ALS, the
 * default engine config apart from automatic retrains), then runs `--retrains` retrains in a
 * row (engine.trainNow, the same path a background retrain takes: training thread → bytes →
 * loadModel → swap), posting `--feedback` live events between them. After each retrain it
 * forces a GC and prints RSS, V8 heap, external and ArrayBuffer bytes, and the bytes of
 * WebAssembly memory still alive in this process (FactorModel cores are counted through a
 * FinalizationRegistry, see src/wasm/core.ts `liveCores`).
 *
 *   node --expose-gc --import tsx bench/drills/retrain-memory.ts [--retrains 10] [--feedback 500]
 *
 * It asserts nothing and writes no result file: it prints one JSON line per retrain and a
 * summary (first → last RSS, slope per retrain over the second half).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles } from '../../src/cli/import.ts';
import { Engine } from '../../src/engine/engine.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { liveCores } from '../../src/wasm/core.ts';
import { Rng } from '../../src/data/rng.ts';

const DATA = fileURLToPath(new URL('../../data/ml-latest-small/', import.meta.url));
const MB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const retrains = arg('retrains', 10);
const feedbackPerRound = arg('feedback', 500);
// --no-gc samples as a server would see it (GC only when V8 decides); otherwise a forced GC
// before each sample shows what is still reachable.
const gc = process.argv.includes('--no-gc') ? undefined : (globalThis as { gc?: () => void }).gc;
if (!gc && !process.argv.includes('--no-gc')) console.error('warning: run with node --expose-gc (or pass --no-gc)');

async function settle(): Promise<void> {
  // Two rounds: finalizers queued by the first GC run before the second.
  for (let t = 0; t < 2; t++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sample(round: number): Record<string, number> {
  const m = process.memoryUsage();
  const cores = liveCores();
  return {
    round,
    rssMB: +(m.rss / MB).toFixed(1),
    heapMB: +(m.heapUsed / MB).toFixed(1),
    externalMB: +(m.external / MB).toFixed(1),
    arrayBuffersMB: +(m.arrayBuffers / MB).toFixed(1),
    wasmCores: cores.count,
    wasmMB: +(cores.bytes / MB).toFixed(1),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'liverec-retrain-memory-'));
const store = SqliteStore.open(join(dir, 'db.sqlite'));
const quiet = { out: () => undefined, err: () => undefined };
await importFiles(store, { movies: DATA + 'movies.csv', ratings: DATA + 'ratings.csv' }, quiet);
const engine = await Engine.open(store, { retrainEvery: 0, retrainMinutes: 0 });
const users = Array.from({ length: 610 }, (_, u) => String(u + 1));
const items = (await store.listItems()).map((i) => i.itemId);
const types = ['view', 'click', 'cart', 'purchase', 'like'] as const;
const rng = new Rng(7);
let clock = Date.now();

const samples: Array<Record<string, number>> = [];
try {
  await engine.trainNow();
  await settle();
  samples.push(sample(0));
  console.log(JSON.stringify(samples[0]));
  for (let round = 1; round <= retrains; round++) {
    for (let e = 0; e < feedbackPerRound; e++) {
      const userId = users[Math.floor(rng.next() * users.length)];
      const itemId = items[Math.floor(rng.next() * items.length)];
      await engine.addFeedback({ userId, itemId, type: types[e % types.length], value: null, timestamp: clock++ }, 10);
      if (e % 50 === 0) await engine.recommend(userId, { n: 10 });
    }
    await engine.trainNow();
    await settle();
    samples.push(sample(round));
    console.log(JSON.stringify(samples[round]));
  }
} finally {
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

const half = samples.slice(Math.floor(samples.length / 2));
const slope = half.length > 1 ? (half[half.length - 1].rssMB - half[0].rssMB) / (half[half.length - 1].round - half[0].round) : 0;
console.log(JSON.stringify({
  summary: {
    retrains, feedbackPerRound,
    rssFirstMB: samples[0].rssMB, rssLastMB: samples[samples.length - 1].rssMB,
    rssPeakMB: Math.max(...samples.map((s) => s.rssMB)),
    rssMBPerRetrainSecondHalf: +slope.toFixed(2),
    wasmCoresLast: samples[samples.length - 1].wasmCores,
  },
}));

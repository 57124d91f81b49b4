/**
 * EASE benchmark → bench/results/ease.json. A benchmark, not a test: it asserts nothing.
 *
 * Accuracy: ml-latest-small, per-user stratified 75/25 split (seed 42), k = 10, full catalog,
 * weight 1 per interaction — the protocol of `liverec eval --data … --split stratified`. λ is
 * chosen by `liverec tune`'s code path (src/eval/tune.ts): a stratified 20 % validation split
 * carved from train alone, a grid of λ fitted on the rest and scored by NDCG@10 on validation,
 * the winner refitted on all of train and scored once on test. Every λ is also scored on test,
 * labelled as the optimistic sweep it is (the anchors' numpy figures were swept that way).
 *
 * Scale: synthetic implicit data (bench/synthetic.ts, 100k users, 1M distinct pairs, every item
 * present) at 5k, 10k and 20k items. Each case is a fresh child process (node --expose-gc) so its
 * peak RSS is its own: fit time with 1 and 2 threads (fitAsync), split into the Gram, the sweep
 * and the finish by the progress reports; the WebAssembly memory and peak RSS after the fits;
 * then one user's recommendations, an erasure (Sherman–Morrison, O(items²)) and a save.
 *
 * Every size runs twice: on the core this Node loads by default (Node 20: the baseline build) and
 * with --experimental-wasm-relaxed-simd (the fused multiply-add build, Node ≥ 22's default); and
 * once more with 2,000 users and 200k pairs, fewer users than items, so the fit goes through
 * the users (Woodbury).
 *
 *   npx tsx bench/ease.ts [--quick] [--skip-accuracy | --keep-accuracy] [--skip-relaxed] [--sizes 5000,10000,20000] [--threads 1,2]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../src/eval/evaluate.ts';
import { splitBy } from '../src/eval/splits.ts';
import { tune } from '../src/eval/tune.ts';
import { Ease } from '../src/model/ease.ts';
import { easePlan } from '../src/model/ease-fit.ts';
import { EASE_BLOCK, easeStride } from '../src/wasm/ease.ts';
import { coreBuild } from '../src/wasm/module.ts';
import { ROOT, arg, collectGarbage, isQuick, mlSmallRows, resultsDir, syntheticInteractions, writeResult } from './lib.ts';

const quick = isQuick();
const LAMBDAS = quick ? [100, 300] : [25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 800];
const USERS = quick ? 10_000 : 100_000;
const PAIRS = quick ? 100_000 : 1_000_000;
/** The fewer-users series: fewer users than items, so the fit goes through the users (Woodbury). */
const FEW_USERS = quick ? 500 : 2_000;
const FEW_PAIRS = quick ? 20_000 : 200_000;

interface ScaleResult {
  core: 'relaxed-simd' | 'baseline';
  /** Through the items (primal) or the users (dual, Woodbury): see src/model/ease-fit.ts. */
  path: 'items' | 'users';
  items: number;
  users: number;
  pairs: number;
  /** sweep = the inversion (of XᵀX + λI, or of XXᵀ + λI on the dual path); finish = every step after it. */
  fits: Array<{ threads: number; seconds: number; gramSeconds: number; sweepSeconds: number; finishSeconds: number; sweepGmacPerSecond: number }>;
  matrixBytes: number;
  wasmMemoryBytes: number;
  peakRssBytes: number;
  recommendMs: number;
  eraseSeconds: number;
  saveSeconds: number;
  saveBytes: number;
}

/** Child: one catalog size, one JSON line on stdout. */
async function scaleCase(items: number, threadCounts: number[], few: boolean): Promise<ScaleResult> {
  const data = few
    ? syntheticInteractions({ users: FEW_USERS, items, interactions: FEW_PAIRS, seed: 1, everyItem: true })
    : syntheticInteractions({ users: USERS, items, interactions: PAIRS, seed: 1, everyItem: true });
  const fits: ScaleResult['fits'] = [];
  const dual = easePlan(data.byUser(), items).dual;
  let model: Ease | null = null;
  for (const threads of threadCounts) {
    model?.dispose();
    model = null; // unreachable, so the GC below frees its WebAssembly memory before the next fit
    collectGarbage();
    model = new Ease({ lambda: 200, threads, maxItems: items });
    const marks: number[] = [];
    const started = performance.now();
    await model.fitAsync(data, { onProgress: () => marks.push(performance.now()) });
    const seconds = (performance.now() - started) / 1000;
    const step = (a: number, b: number) => (marks[b] - marks[a]) / 1000;
    // Steps: the Gram, two per pivot block of the matrix inverted (items, or users on the dual
    // path), then the rest (primal: 1 step; dual: mirror, Y, diagonal, B's rows).
    const inverted = dual ? data.users.size : items;
    const sweepEnd = 1 + 2 * Math.ceil(easeStride(inverted) / EASE_BLOCK);
    const sweepSeconds = step(1, sweepEnd);
    fits.push({
      threads, seconds, gramSeconds: step(0, 1), sweepSeconds, finishSeconds: step(sweepEnd, marks.length - 1),
      sweepGmacPerSecond: inverted ** 3 / 2 / sweepSeconds / 1e9,
    });
    console.error(`  ${items} items, ${threads} thread(s): ${seconds.toFixed(2)} s`);
  }
  const m = model!;
  const wasmMemoryBytes = (m as unknown as { core: { memory: WebAssembly.Memory } }).core.memory.buffer.byteLength;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // A median user: the one at the middle of the activity order.
  const byUser = data.byUser();
  const order = Array.from({ length: data.users.size }, (_, u) => u).sort((a, b) => byUser.indptr[a + 1] - byUser.indptr[a] - (byUser.indptr[b + 1] - byUser.indptr[b]));
  const median = data.users.id(order[order.length >> 1]);
  const heaviest = data.users.id(order[order.length - 1]);
  m.recommend(median);
  const t0 = performance.now();
  for (let r = 0; r < 20; r++) m.recommend(median);
  const recommendMs = (performance.now() - t0) / 20;
  const t1 = performance.now();
  m.forgetUser(heaviest);
  const eraseSeconds = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const saveBytes = m.save().length;
  const saveSeconds = (performance.now() - t2) / 1000;
  return {
    core: coreBuild(), path: dual ? 'users' : 'items', items, users: data.users.size, pairs: data.size, fits, matrixBytes: 4 * items * items, wasmMemoryBytes, peakRssBytes,
    recommendMs, eraseSeconds, saveSeconds, saveBytes,
  };
}

function accuracy() {
  const rows = mlSmallRows();
  const split = splitBy('stratified', rows, { testFraction: 0.25, seed: 42 });
  const tuned = tune({
    rows, algorithm: 'ease', split: 'stratified', search: 'grid', seed: 42, metric: 'ndcg', k: 10,
    space: { lambda: { kind: 'choice', values: LAMBDAS } },
    onTrial: (trial) => console.error(`  validation λ ${trial.params.lambda}: NDCG@10 ${trial.validation?.toFixed(4)} (${trial.fitSeconds.toFixed(1)} s)`),
  });
  const train = split.train.map((r) => ({ ...r, value: 1 }));
  const sweep = LAMBDAS.map((lambda) => {
    const { metrics } = evaluate({ train, test: split.test, algorithm: 'ease', params: { lambda } });
    console.error(`  test λ ${lambda}: P@10 ${metrics.precision.toFixed(4)} NDCG@10 ${metrics.ndcg.toFixed(4)}`);
    return { lambda, precision: metrics.precision, recall: metrics.recall, ndcg: metrics.ndcg, map: metrics.map, fit_seconds: metrics.fit_seconds };
  });
  const t = tuned.test;
  return {
    protocol: 'ml-latest-small, stratified 75/25 (seed 42), k = 10, full catalog, weight 1 per interaction',
    chosenOnValidation: {
      lambda: tuned.bestParams.lambda,
      validation: tuned.trials.map((trial) => ({ lambda: trial.params.lambda, ndcg: trial.validation, fit_seconds: trial.fitSeconds })),
      test: { precision: t.precision, recall: t.recall, ndcg: t.ndcg, map: t.map, hit_rate: t.hit_rate, coverage: t.coverage, fit_seconds: t.fit_seconds },
      sizes: tuned.sizes,
    },
    optimisticSweepOnTest: sweep,
  };
}

const sizeArg = arg('size', '');
if (sizeArg) {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') throw new Error('run with node --expose-gc');
  const result = await scaleCase(Number(sizeArg), arg('threads', '1,2').split(',').map(Number), process.argv.includes('--few-users'));
  console.log(JSON.stringify(result));
} else {
  const sizes = arg('sizes', quick ? '1000,2000' : '5000,10000,20000').split(',').map(Number);
  const threads = arg('threads', '1,2');
  console.error('accuracy (ml-latest-small):');
  // --keep-accuracy: reuse the accuracy section of the last full run (the figures are deterministic).
  const previous = join(resultsDir(), 'ease.json');
  const acc = process.argv.includes('--keep-accuracy') && existsSync(previous)
    ? JSON.parse(readFileSync(previous, 'utf8')).accuracy
    : process.argv.includes('--skip-accuracy') ? null : accuracy();
  const scale = (flags: string[], few = false) => sizes.map((items) => {
    console.error(`scale: ${items} items ${flags.join(' ')}${few ? ' (fewer users)' : ''}`);
    const out = execFileSync(process.execPath, [...flags, '--expose-gc', '--import', 'tsx', join(ROOT, 'bench/ease.ts'), '--size', String(items), '--threads', threads, ...(quick ? ['--quick'] : []), ...(few ? ['--few-users'] : [])], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    return JSON.parse(out.trim().split('\n').pop()!) as ScaleResult;
  });
  const fewUsers = scale([], true);
  const baseline = scale([]);
  const relaxed = process.argv.includes('--skip-relaxed') ? null : scale(['--experimental-wasm-relaxed-simd']);
  writeResult('ease', {
    method:
      'Accuracy: liverec tune code path (validation split carved from train, grid over λ by NDCG@10, winner refitted on train and ' +
      'scored once on test); every λ also scored on test (optimistic). Scale: one child process per size (node --expose-gc, tsx), ' +
      `synthetic ${USERS} users × N items, ${PAIRS} distinct pairs, seed 1, every item present, λ 200; wall time of fitAsync per ` +
      'thread count (fresh model, GC before), split by progress reports into Gram / sweep (block inversion) / finish; sweep GMAC/s = ' +
      'N³/2 / sweep seconds; memory after the fits: WebAssembly memory (includes allocator headroom) and peak RSS; then recommend ' +
      '(median user, mean of 20), forgetUser of the most active user, save.',
    accuracy: acc,
    results: baseline,
    fewerUsers: {
      note: `The same sizes with ${FEW_USERS} users and ${FEW_PAIRS} pairs: fewer users than items, so the fit inverts XXᵀ + λI (Woodbury); sweep GMAC/s is users³/2 / sweep seconds, the sweep being K's.`,
      results: fewUsers,
    },
    relaxedSimd: {
      note: 'The same sizes with node --experimental-wasm-relaxed-simd: the core build with fused multiply-add in the sweep, which Node ≥ 22 loads by default.',
      results: relaxed,
    },
  });
}

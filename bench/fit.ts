/**
 * Fit-time benchmark → bench/results/fit.json. A benchmark, not a test: it asserts nothing.
 *
 *   ml-latest-small: svd, als, implicit-als, item-knn at their default params.
 *   synthetic 1M  (100k users × 50k items):  implicit-als and svd, factors 64, default iterations.
 *   synthetic 10M (500k users × 200k items): implicit-als and svd, factors 64, 2 iterations/epochs,
 *     1 thread (a default-length fit at 10M takes minutes per run on 2 cores). 1-iteration fits are
 *     timed too, splitting a fit into setup + marginal seconds per iteration, and
 *     `estimatedDefaultFitSeconds` = setup + marginal × the default iteration count.
 *
 * ml-latest-small: median of 5 timed fits after 1 warm-up. Synthetic: median of 5 (10M: 3) with
 * no per-case warm-up — the ml-latest-small fits ran the same code first, and every fit starts
 * from fresh WebAssembly memory anyway. Per-iteration seconds = fit seconds / iterations (so they
 * include the per-fit setup: CSR builds and copies into WebAssembly memory). Sizes: the process
 * peaks at ~0.3 GB RSS for 1M and ~1.3 GB for 10M; the sizes and run counts keep this script
 * around 10 minutes on 2 cores (12 minutes with other jobs holding the load average at ~5).
 *
 * Threads: when createModel accepts `threads` (detected by trying), every case runs at 1 thread
 * (`fit`) and then, 3 times more, at one thread per core (`fitAsync` on a worker pool);
 * `--threads 1,4` picks other counts.
 *
 *   npx tsx bench/fit.ts [--quick] [--threads 1,2]
 */
import { cpus } from 'node:os';
import type { Interactions } from '../src/data/interactions.ts';
import { InvalidInputError } from '../src/errors.ts';
import { createModel, isExplicit, type Algorithm } from '../src/model/index.ts';
import { arg, collectGarbage, fmtSeconds, isQuick, measure, mlSmallInteractions, syntheticInteractions, writeResult } from './lib.ts';
import type { SyntheticOptions } from './synthetic.ts';

const quick = isQuick();

interface Dataset {
  name: string;
  description: string;
  /** Built on first use (synthetic sets are cached for their cases). */
  load: (explicit: boolean) => Interactions;
}

interface Case {
  dataset: Dataset;
  algorithm: Algorithm;
  params: Record<string, unknown>;
  warmup: number;
  runs: number;
  /** Thread counts for this case (default: threadCounts()). */
  threads?: number[];
  /**
   * Also time 1-iteration fits (1 thread), so setup and the marginal cost of an iteration can be
   * told apart: with only a couple of iterations, fit / iterations is mostly setup.
   */
  marginal?: boolean;
}

const mlSmall: Dataset = {
  name: 'ml-latest-small',
  description: 'data/ml-latest-small/ratings.csv: ratings for svd/als, weight 1 per (user, item) for implicit-als/item-knn',
  load: (explicit) => mlSmallInteractions(explicit),
};

function synthetic(name: string, options: SyntheticOptions): Dataset {
  let cached: Interactions | null = null;
  return {
    name,
    description: `bench/synthetic.ts ${options.users} users × ${options.items} items, ${options.interactions} distinct pairs, Zipf 1 items, log-normal users, seed ${options.seed}; values = draw counts`,
    load: () => (cached ??= syntheticInteractions(options)),
  };
}

const syn1m = quick
  ? synthetic('synthetic-100k', { users: 10_000, items: 5_000, interactions: 100_000, seed: 1 })
  : synthetic('synthetic-1M', { users: 100_000, items: 50_000, interactions: 1_000_000, seed: 1 });
const syn10m = synthetic('synthetic-10M', { users: 500_000, items: 200_000, interactions: 10_000_000, seed: 2 });

const small = { warmup: quick ? 0 : 1, runs: quick ? 1 : 5 };
// The ml-latest-small fits of the same algorithms are the synthetic cases' warm-up: same code,
// and every fit starts from fresh WebAssembly memory, so a per-case warm-up fit adds nothing.
const large = { warmup: 0, runs: quick ? 1 : 5 };
/** Extra thread counts (threads > 1) are a scaling check: 3 runs, no warm-up (the 1-thread runs of the case came first). */
const multiThread = { warmup: 0, runs: quick ? 1 : 3 };
const ITERATIONS_10M = 2;
const cases: Case[] = [
  ...(['svd', 'als', 'implicit-als', 'item-knn'] as const).map((algorithm) => ({ dataset: mlSmall, algorithm, params: {}, ...small })),
  { dataset: syn1m, algorithm: 'implicit-als', params: { factors: 64 }, ...large },
  { dataset: syn1m, algorithm: 'svd', params: { factors: 64 }, ...large },
  ...(quick
    ? []
    : ([
        { dataset: syn10m, algorithm: 'implicit-als', params: { factors: 64, iterations: ITERATIONS_10M }, warmup: 0, runs: 3, threads: [1], marginal: true },
        { dataset: syn10m, algorithm: 'svd', params: { factors: 64, iterations: ITERATIONS_10M }, warmup: 0, runs: 3, threads: [1], marginal: true },
      ] as Case[])),
];

/**
 * Whether createModel takes a `threads` param (multi-thread training arrived after this script;
 * an older model rejects the unknown param with an InvalidInputError and only 1 thread is run).
 */
function acceptsThreads(algorithm: Algorithm): boolean {
  try {
    createModel(algorithm, { threads: 1 });
    return true;
  } catch (error) {
    if (error instanceof InvalidInputError) return false;
    throw error;
  }
}

/** `--threads 1,2` overrides the thread counts tried (default: 1 and every core, when supported). */
const threadsArg = arg('threads', '');
const threadCounts = (algorithm: Algorithm): number[] => {
  if (!acceptsThreads(algorithm)) return [1];
  return threadsArg ? threadsArg.split(',').map(Number) : [...new Set([1, cpus().length])];
};

/**
 * One fit. With threads > 1 the model's `fitAsync` runs it on a thread pool (`fit` always stays
 * on the calling thread); the pool is started and closed inside the timed call.
 */
async function fitOnce(algorithm: Algorithm, params: Record<string, unknown>, threads: number, data: Interactions): Promise<void> {
  const model = createModel(algorithm, params) as ReturnType<typeof createModel> & { fitAsync?: (d: Interactions) => Promise<unknown> };
  if (threads > 1 && typeof model.fitAsync === 'function') await model.fitAsync(data);
  else model.fit(data);
}

const threadsSupported = Object.fromEntries([...new Set(cases.map((c) => c.algorithm))].map((a) => [a, acceptsThreads(a)]));

const results: Array<Record<string, unknown> & { dataset: string; algorithm: string; threads: number; perIterationSeconds: number | null }> = [];
let current: Dataset | null = null;
for (const c of cases) {
  if (current !== c.dataset) {
    current = c.dataset;
    collectGarbage();
  }
  const explicit = isExplicit(c.algorithm);
  const loadStart = performance.now();
  const data = c.dataset.load(explicit);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  for (const threads of threadsArg || !c.threads ? threadCounts(c.algorithm) : c.threads) {
    const params = threadsSupported[c.algorithm] ? { ...c.params, threads } : c.params;
    const resolved = { ...createModel(c.algorithm, params).params };
    const iterations = typeof resolved.iterations === 'number' ? resolved.iterations : null;
    const timing = threads > 1 ? multiThread : { warmup: c.warmup, runs: c.runs };
    const m = await measure(() => fitOnce(c.algorithm, params, threads, data), { ...timing, before: collectGarbage });
    const perIteration = iterations ? m.median / iterations : null;
    const defaults = createModel(c.algorithm, {}).params.iterations;
    // Setup vs iterations, from extra 1-iteration fits: marginal = (fit(N) − fit(1)) / (N − 1).
    let split: { oneIterationSeconds: number; marginalIterationSeconds: number; setupSeconds: number } | null = null;
    if (c.marginal && threads === 1 && iterations && iterations > 1) {
      const one = await measure(() => fitOnce(c.algorithm, { ...params, iterations: 1 }, threads, data), { ...timing, before: collectGarbage });
      const marginal = (m.median - one.median) / (iterations - 1);
      split = { oneIterationSeconds: one.median, marginalIterationSeconds: marginal, setupSeconds: one.median - marginal };
    }
    const estimated =
      typeof defaults === 'number' && defaults !== iterations && perIteration !== null
        ? split
          ? split.setupSeconds + split.marginalIterationSeconds * defaults
          : perIteration * defaults
        : null;
    console.log(
      `${c.dataset.name.padEnd(16)} ${c.algorithm.padEnd(13)} threads ${threads}  fit ${fmtSeconds(m.median)}` +
        (perIteration !== null ? `  (${fmtSeconds(perIteration)} / iteration)` : '') +
        (split ? `  setup ${fmtSeconds(split.setupSeconds)} + ${fmtSeconds(split.marginalIterationSeconds)} / extra iteration` : '') +
        `  runs ${m.runs.map((r) => r.toFixed(2)).join(' ')}`,
    );
    results.push({
      dataset: c.dataset.name,
      algorithm: c.algorithm,
      threads,
      call: threads > 1 ? 'fitAsync' : 'fit',
      params: resolved,
      users: data.users.size,
      items: data.items.size,
      interactions: data.size,
      warmup: timing.warmup,
      medianSeconds: m.median,
      runsSeconds: m.runs,
      iterations,
      perIterationSeconds: perIteration,
      ...split,
      ...(estimated !== null && { estimatedDefaultFitSeconds: estimated, defaultIterations: defaults }),
      dataBuildSeconds: loadSeconds,
      /** Peak RSS of this process so far (all cases up to and including this one). */
      processPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    });
  }
}

const perIteration = (dataset: string, algorithm: string) => {
  const r = results.find((o) => o.dataset === dataset && o.algorithm === algorithm && o.threads === 1);
  return (r?.marginalIterationSeconds as number | undefined) ?? r?.perIterationSeconds ?? null;
};

writeResult('fit', {
  method:
    `Wall time of model.fit(Interactions) in one process, default params unless listed (synthetic: factors 64${quick ? '' : `; 10M: ${ITERATIONS_10M} iterations`}). ` +
    `ml-latest-small: median of ${small.runs} timed fits after ${small.warmup} warm-up; synthetic: median of ${large.runs}${quick ? '' : ' (10M: 3)'}, ` +
    'warmed up by the ml-latest-small fits (every fit starts from fresh WebAssembly memory); threads > 1: ' +
    `${multiThread.runs} fits. A GC before each fit. Per-iteration = fit / iterations, setup included` +
    (quick ? '. ' : `; at 10M (1 thread only) 1-iteration fits give setup and marginal seconds per iteration = (fit(${ITERATIONS_10M}) − fit(1)) / ${ITERATIONS_10M - 1}, and the default-length estimate = setup + marginal × default iterations. `) +
    (Object.values(threadsSupported).some(Boolean)
      ? 'threads > 1: the model\'s fitAsync on a worker pool over shared WebAssembly memory (pool start-up included); threads 1: fit.'
      : 'createModel does not accept `threads`, so every fit is single-threaded (threads: 1).'),
  threadsSupported,
  datasets: Object.fromEntries([mlSmall, syn1m, ...(quick ? [] : [syn10m])].map((d) => [d.name, d.description])),
  perIteration: {
    note: 'k = 64, 1 thread; 1M: fit / iterations; 10M: marginal seconds per extra iteration (implicit ALS: one user half-sweep + one item half-sweep by 3 CG steps; SGD: one shuffled epoch)',
    dataset: syn1m.name,
    implicitAlsIterationSeconds: perIteration(syn1m.name, 'implicit-als'),
    sgdEpochSeconds: perIteration(syn1m.name, 'svd'),
    ...(!quick && {
      implicitAlsIterationSeconds10M: perIteration(syn10m.name, 'implicit-als'),
      sgdEpochSeconds10M: perIteration(syn10m.name, 'svd'),
    }),
  },
  results,
});

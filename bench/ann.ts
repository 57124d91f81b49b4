/**
 * Approximate top-N for big catalogs → bench/results/ann.json. A benchmark, not a test.
 *
 * Factors: an ImplicitAls (k = 64) fitted on a synthetic set with Zipf item popularity that
 * touches every item (bench/synthetic.ts), cached in /tmp so a rerun skips the fit.
 *  1. Index comparison on those factors, for the users' own vectors with their seen items
 *     excluded: recall@10 against the exact top-10, query time, build time and memory, for the
 *     inverted file in the WebAssembly core with norm-augmented lists (Bachrach et al. 2014)
 *     and with raw inner-product lists, over a sweep of probed lists; and usearch's HNSW
 *     (inner product, and L2 on augmented vectors) when the package is installed
 *     (`npm i --no-save usearch`: it is not a dependency).
 *  2. The model as served, with its default index: recall@10 overall, with a category filter
 *     and for similar items; recommend p50/p99; fold-in + recommend p99 (a live feedback).
 *
 *   npx tsx bench/ann.ts [--items 1000000] [--quick] [--no-usearch] [--served-only]
 * writes bench/results/ann.json for 1M items, ann-<items>.json otherwise.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createModel, loadModel } from '../src/model/index.ts';
import { decodeModel } from '../src/model/format.ts';
import { buildIndexArrays } from '../src/model/item-index-build.ts';
import { ItemIndex } from '../src/model/item-index.ts';
import { PROBE_SHARE } from '../src/model/approximate.ts';
import type { Recommender } from '../src/model/types.ts';
import { Core } from '../src/wasm/core.ts';
import { CorePool } from '../src/wasm/pool.ts';
import { scoreItems, selectTop } from '../src/wasm/topk.ts';
import { Rng } from '../src/data/rng.ts';
import { arg, distribution, isQuick, mlSmallInteractions, syntheticInteractions, writeResult } from './lib.ts';

const quick = isQuick();
const ITEMS = Number(arg('items', quick ? '100000' : '1000000'));
const K = 64;
const QUERIES = quick ? 200 : 500;
const FIT = { factors: K, iterations: 4, threads: 2 };
const CATEGORIES = 20;
const N = 10;
const BUILD_THREADS = 2;

async function factors(): Promise<Uint8Array> {
  const cache = `/tmp/liverec-ann-${ITEMS}.lvrc`;
  if (existsSync(cache)) return readFileSync(cache);
  const data = syntheticInteractions({ users: ITEMS / 4, items: ITEMS, interactions: 4 * ITEMS, seed: 7, everyItem: true });
  const start = performance.now();
  const model = await createModel('implicit-als', FIT).fitAsync(data);
  console.log(`fitted ${data.users.size} users × ${data.items.size} items, ${data.size} interactions in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  const bytes = model.save();
  writeFileSync(cache, bytes);
  model.dispose();
  return bytes;
}

const bytes = await factors();
const state = decodeModel(bytes);
const itemFactors = state.arrays.itemFactors as Float32Array;
const userFactors = state.arrays.userFactors as Float32Array;
const seenIndptr = state.arrays.seenIndptr as Int32Array;
const seenIndices = state.arrays.seenIndices as Int32Array;
const nItems = itemFactors.length / K;
const rawBytes = nItems * K * 4;
const rng = new Rng(11);

const recallOf = (exact: ArrayLike<number>, found: ArrayLike<number>) => {
  const want = new Set(Array.from(exact));
  let hit = 0;
  for (let t = 0; t < Math.min(found.length, N); t++) if (want.has(found[t])) hit++;
  return hit / Math.max(want.size, 1);
};

/** Factors as a model file holds them, and which users to query. */
interface Factors {
  items: Float32Array;
  users: Float32Array;
  seenIndptr: Int32Array;
  seenIndices: Int32Array;
  queries: number[];
}

/** Users with a history, a seeded sample of `count` (all when fewer). */
function queryUsersOf(f: Omit<Factors, 'queries'>, count: number): number[] {
  const withHistory = [];
  for (let u = 0; u < f.users.length / K; u++) if (f.seenIndptr[u + 1] > f.seenIndptr[u]) withHistory.push(u);
  if (withHistory.length <= count) return withHistory;
  const picked = new Set<number>();
  while (picked.size < count) picked.add(withHistory[rng.int(withHistory.length)]);
  return [...picked];
}

/**
 * Both list formations (augmented, raw inner product) over a sweep of probe caps: recall@10
 * against the exact top-10 (seen items excluded), per-query time, build time on BUILD_THREADS.
 */
async function ivfComparison(f: Factors, probeCaps: (lists: number) => number[]): Promise<{ exactMs: number; variants: unknown[]; truth: Int32Array[] }> {
  const n = f.items.length / K;
  const core = new Core();
  const rows = { factors: core.putF32(f.items), bias: 0, k: K, size: n };
  const query = core.allocF32(K);
  const setQuery = (u: number) => core.f32(query, K).set(f.users.subarray(u * K, (u + 1) * K));
  const seenOf = (u: number) => f.seenIndices.slice(f.seenIndptr[u], f.seenIndptr[u + 1]).sort();
  const exactStart = performance.now();
  const truth = f.queries.map((u) => {
    const mark = core.mark();
    try {
      setQuery(u);
      const scores = core.allocF32(n);
      scoreItems(core, rows.factors, 0, n, K, query, scores);
      const seen = seenOf(u);
      const idx = core.allocI32(N);
      const count = selectTop(core, scores, n, core.putI32(seen), seen.length, 0, N, idx, core.allocF32(N));
      return core.i32(idx, count).slice();
    } finally {
      core.release(mark);
    }
  });
  const exactMs = (performance.now() - exactStart) / f.queries.length;
  console.log(`${n} items, ${f.queries.length} queries; exact top-10 ${exactMs.toFixed(2)} ms per query`);
  const variants = [];
  const pool = new CorePool(core, BUILD_THREADS);
  for (const augment of [true, false]) {
    const mark = core.mark();
    const start = performance.now();
    const arrays = await buildIndexArrays(core, rows, { augment }, pool);
    const buildSeconds = (performance.now() - start) / 1000;
    const index = new ItemIndex(core, arrays);
    const lists = index.listCount;
    const sizes = Array.from(arrays.counts).sort((a, b) => a - b);
    console.log(`IVF ${augment ? 'augmented' : 'raw IP'}: ${lists} lists (sizes p50 ${sizes[lists >> 1]}, max ${sizes[lists - 1]}), built in ${buildSeconds.toFixed(1)} s, ${(index.bytes / 2 ** 20).toFixed(1)} MiB`);
    const sweep = [];
    for (const probes of probeCaps(lists)) {
      const times: number[] = [];
      let recall = 0;
      f.queries.forEach((u, q) => {
        setQuery(u);
        const t0 = performance.now();
        const found = index.search(rows, query, seenOf(u), N, probes);
        times.push(performance.now() - t0);
        recall += recallOf(truth[q], found.items);
      });
      const d = distribution(times);
      sweep.push({ probes, recallAt10: recall / f.queries.length, queryMs: { p50: d.p50, p99: d.p99 } });
      console.log(`  probes ${probes}: recall@10 ${(recall / f.queries.length).toFixed(3)}, p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`);
    }
    variants.push({ index: `ivf-wasm-${augment ? 'augmented' : 'raw-ip'}`, lists, listSizes: { p50: sizes[lists >> 1], max: sizes[lists - 1] }, buildSeconds, bytes: index.bytes, bytesPerRawVectors: index.bytes / (n * K * 4), sweep });
    core.release(mark);
  }
  await pool.close();
  return { exactMs, variants, truth };
}

const servedOnly = process.argv.includes('--served-only');
// ---- 1a. Real factors: MovieLens (ml-latest-small), where the norm skew is milder ----
const ml = await createModel('implicit-als', { factors: K, seed: 1 }).fitAsync(mlSmallInteractions(false));
const mlState = decodeModel(ml.save());
ml.dispose();
const mlFactors = {
  items: mlState.arrays.itemFactors as Float32Array, users: mlState.arrays.userFactors as Float32Array,
  seenIndptr: mlState.arrays.seenIndptr as Int32Array, seenIndices: mlState.arrays.seenIndices as Int32Array,
};
console.log('MovieLens ml-latest-small, implicit ALS defaults:');
const real = servedOnly ? null : await ivfComparison({ ...mlFactors, queries: queryUsersOf(mlFactors, Infinity) }, () => [2, 4, 8, 16, 24]);

// ---- 1b. The synthetic catalog ----
const bigFactors = { items: itemFactors, users: userFactors, seenIndptr, seenIndices };
const queryUsers = queryUsersOf(bigFactors, QUERIES);
console.log('Synthetic catalog:');
const synthetic = servedOnly ? null : await ivfComparison({ ...bigFactors, queries: queryUsers }, (lists) => [0.005, 0.02, 0.05, 0.1].map((share) => Math.max(1, Math.round(lists * share))));
const seenOf = (u: number) => seenIndices.slice(seenIndptr[u], seenIndptr[u + 1]).sort();
const usearch = servedOnly || process.argv.includes('--no-usearch') ? [] : await usearchComparison();

/** The part of usearch's API this comparison uses: it is an optional install, so its own types may be absent. */
interface Usearch {
  MetricKind: { IP: unknown; L2sq: unknown };
  ScalarKind: { F32: unknown };
  Index: new (options: Record<string, unknown>) => {
    add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
    search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  };
}

async function usearchComparison(): Promise<unknown[]> {
  let usearch: Usearch;
  try {
    // The CommonJS entry: the ESM one looks for its native binary under the working directory.
    usearch = createRequire(import.meta.url)('usearch');
  } catch {
    console.log('usearch not installed: skipped (npm i --no-save usearch)');
    return [{ index: 'usearch-hnsw', skipped: 'package not installed' }];
  }
  const out = [];
  let m2 = 0;
  for (let i = 0; i < nItems; i++) {
    let s = 0;
    for (let f = i * K; f < (i + 1) * K; f++) s += itemFactors[f] ** 2;
    m2 = Math.max(m2, s);
  }
  for (const variant of ['ip', 'augmented-l2'] as const) {
    const dims = variant === 'ip' ? K : K + 1;
    const vectors = new Float32Array(nItems * dims);
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let f = 0; f < K; f++) {
        const x = itemFactors[i * K + f];
        vectors[i * dims + f] = x;
        s += x * x;
      }
      if (variant !== 'ip') vectors[i * dims + K] = Math.sqrt(Math.max(0, m2 - s));
    }
    const metric = variant === 'ip' ? usearch.MetricKind.IP : usearch.MetricKind.L2sq;
    const index = new usearch.Index({ dimensions: dims, metric, quantization: usearch.ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
    const rss0 = process.memoryUsage().rss;
    const start = performance.now();
    index.add(BigUint64Array.from({ length: nItems }, (_, i) => BigInt(i)), vectors, 2);
    const buildSeconds = (performance.now() - start) / 1000;
    const bytes = process.memoryUsage().rss - rss0;
    const times: number[] = [];
    let recall = 0;
    queryUsers.forEach((u, q) => {
      const v = new Float32Array(dims);
      v.set(userFactors.subarray(u * K, (u + 1) * K));
      const seen = new Set(seenOf(u));
      const t0 = performance.now();
      // HNSW has no exclusion list here: over-fetch by the seen count and drop them.
      const found = index.search(v, N + seen.size, 1);
      const kept = Array.from(found.keys, Number).filter((i) => !seen.has(i)).slice(0, N);
      times.push(performance.now() - t0);
      recall += recallOf(synthetic!.truth[q], kept);
    });
    const d = distribution(times);
    console.log(`usearch HNSW ${variant}: built in ${buildSeconds.toFixed(1)} s (+${(bytes / 2 ** 20).toFixed(0)} MiB RSS), recall@10 ${(recall / queryUsers.length).toFixed(3)}, p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`);
    out.push({ index: `usearch-hnsw-${variant}`, connectivity: 16, expansionAdd: 128, expansionSearch: 64, buildSeconds, buildThreads: 2, rssBytes: bytes, bytesPerRawVectors: bytes / rawBytes, recallAt10: recall / queryUsers.length, queryMs: { p50: d.p50, p99: d.p99 } });
  }
  return out;
}

// ---- 2. The model as served ----
const exactModel = loadModel(bytes);
const model = loadModel(bytes);
const buildStart = performance.now();
await model.latent!.buildIndex({ threads: BUILD_THREADS });
const modelBuildSeconds = (performance.now() - buildStart) / 1000;
const categoryOf = (itemId: string) => Number(itemId.slice(1)) % CATEGORIES;
const userIds = queryUsers.map((u) => state.users[u]);

function served(m: Recommender, label: string, options: (userId: string) => Parameters<Recommender['recommend']>[1]) {
  const times: number[] = [];
  const lists = userIds.map((userId) => {
    const t0 = performance.now();
    const list = m.recommend(userId, options(userId));
    times.push(performance.now() - t0);
    return list.map((r) => r.itemId);
  });
  const d = distribution(times);
  console.log(`  ${label}: p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`);
  return { lists, ms: { p50: d.p50, p99: d.p99 } };
}
const listRecall = (exact: string[][], found: string[][]) => exact.reduce((s, e, q) => s + recallOf(e as unknown as number[], found[q] as unknown as number[]), 0) / exact.length;
const wanted = (userId: string) => ({ n: N, filter: (itemId: string) => categoryOf(itemId) === Number(userId.slice(1)) % CATEGORIES });

console.log(`model indexes (scores and directions) built in ${modelBuildSeconds.toFixed(1)} s on ${BUILD_THREADS} threads`);
const exact = served(exactModel, 'exact recommend', () => ({ n: N }));
const approx = served(model, 'ann recommend', () => ({ n: N }));
const exactFiltered = served(exactModel, 'exact recommend, 1 category of 20', wanted);
const approxFiltered = served(model, 'ann recommend, 1 category of 20', wanted);

const similarIds = userIds.map((_, q) => state.items[seenIndices[seenIndptr[queryUsers[q]]]]);
const similarTimes: number[] = [];
let similarRecall = 0;
for (const itemId of similarIds) {
  const want = exactModel.similarItems(itemId, N).map((s) => s.itemId);
  const t0 = performance.now();
  const got = model.similarItems(itemId, N).map((s) => s.itemId);
  similarTimes.push(performance.now() - t0);
  similarRecall += recallOf(want as unknown as number[], got as unknown as number[]);
}

// A live feedback: fold a user in from a history, then rank (what POST /v1/feedback does after the write).
const foldTimes: number[] = [];
const foldOnly: number[] = [];
const historySizes: number[] = [];
userIds.forEach((userId, q) => {
  const history = model.userHistory(userId);
  history.push({ itemId: state.items[rng.int(nItems)], value: 2 });
  historySizes.push(history.length);
  const t0 = performance.now();
  model.foldInUser(`live-${q}`, history);
  const t1 = performance.now();
  model.recommend(`live-${q}`, { n: N });
  foldTimes.push(performance.now() - t0);
  foldOnly.push(t1 - t0);
});
const similar = distribution(similarTimes);
const live = distribution(foldTimes);
const served2 = {
  buildSeconds: modelBuildSeconds,
  indexBytes: model.latent!.indexBytes,
  indexBytesPerRawVectors: model.latent!.indexBytes / rawBytes,
  recallAt10: listRecall(exact.lists, approx.lists),
  recallAt10Category: listRecall(exactFiltered.lists, approxFiltered.lists),
  similarRecallAt10: similarRecall / similarIds.length,
  recommendMs: { exact: exact.ms, ann: approx.ms, exactCategory: exactFiltered.ms, annCategory: approxFiltered.ms },
  similarMs: { p50: similar.p50, p99: similar.p99 },
  foldInAndRecommendMs: { p50: live.p50, p99: live.p99 },
  foldInMs: { p50: distribution(foldOnly).p50, p99: distribution(foldOnly).p99 },
  historyItems: { p50: distribution(historySizes).p50, max: distribution(historySizes).max },
};
console.log(served2);

writeResult(ITEMS === 1_000_000 ? 'ann' : `ann-${ITEMS}`, {
  method:
    `ImplicitAls k=${K} (${FIT.iterations} iterations, 2 threads) fitted on synthetic data: ${ITEMS} items (Zipf 1, every item touched), ` +
    `${ITEMS / 4} users, ${4 * ITEMS} interactions, seed 7. ${QUERIES} seeded query users with a history; their seen items excluded. ` +
    'Recall@10 = share of the exact top-10 (full scan) found. "movielensFactors" (ImplicitAls defaults on ml-latest-small, every user) and ' +
    '"syntheticFactors": index kernels on the raw factors, one query at a time on one thread, build on 2 threads, a sweep of the cap on lists scanned. ' +
    `"served": the model's recommend/similarItems/foldInUser with the default index (at most ${PROBE_SHARE * 100} % of lists, at least 24), ` +
    `a category filter keeping 1 item in ${CATEGORIES}. Memory: bytes the index holds beside the item vectors (usearch: RSS growth, it holds its own copy).`,
  items: nItems,
  k: K,
  rawVectorBytes: rawBytes,
  results: {
    ...(real && { movielensFactors: { items: mlFactors.items.length / K, exactMs: real.exactMs, variants: real.variants } }),
    ...(synthetic && { syntheticFactors: { items: nItems, exactMs: synthetic.exactMs, variants: synthetic.variants, usearch } }),
    served: served2,
  },
});

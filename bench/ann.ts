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
 *   npx tsx bench/ann.ts [--items 1000000] [--quick]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createModel, loadModel } from '../src/model/index.ts';
import { decodeModel } from '../src/model/format.ts';
import { buildIndexArrays } from '../src/model/item-index-build.ts';
import { ItemIndex } from '../src/model/item-index.ts';
import { probesFor, PROBE_SHARE } from '../src/model/approximate.ts';
import type { Recommender } from '../src/model/types.ts';
import { Core } from '../src/wasm/core.ts';
import { CorePool } from '../src/wasm/pool.ts';
import { scoreItems, selectTop } from '../src/wasm/topk.ts';
import { Rng } from '../src/data/rng.ts';
import { arg, distribution, isQuick, syntheticInteractions, writeResult } from './lib.ts';

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

// Query users: a seeded sample of users with a history.
const rng = new Rng(11);
const queryUsers: number[] = [];
while (queryUsers.length < QUERIES) {
  const u = rng.int(userFactors.length / K);
  if (seenIndptr[u + 1] > seenIndptr[u]) queryUsers.push(u);
}
const seenOf = (u: number) => seenIndices.slice(seenIndptr[u], seenIndptr[u + 1]).sort();

// ---- 1. Index comparison on the raw factors ----
const core = new Core();
const rows = { factors: core.putF32(itemFactors), bias: 0, k: K, size: nItems };
const query = core.allocF32(K);
const setQuery = (u: number) => core.f32(query, K).set(userFactors.subarray(u * K, (u + 1) * K));

function exactTop(u: number): Int32Array {
  const mark = core.mark();
  try {
    setQuery(u);
    const scores = core.allocF32(nItems);
    scoreItems(core, rows.factors, 0, nItems, K, query, scores);
    const seen = seenOf(u);
    const idx = core.allocI32(N);
    const count = selectTop(core, scores, nItems, core.putI32(seen), seen.length, 0, N, idx, core.allocF32(N));
    return core.i32(idx, count).slice();
  } finally {
    core.release(mark);
  }
}

const recallOf = (exact: ArrayLike<number>, found: ArrayLike<number>) => {
  const want = new Set(Array.from(exact));
  let hit = 0;
  for (let t = 0; t < Math.min(found.length, N); t++) if (want.has(found[t])) hit++;
  return hit / want.size;
};

const exactStart = performance.now();
const truth = queryUsers.map(exactTop);
const exactMs = (performance.now() - exactStart) / queryUsers.length;
console.log(`${nItems} items, ${queryUsers.length} queries; exact top-10 ${exactMs.toFixed(2)} ms per query`);
const rawBytes = nItems * K * 4;

const comparison: unknown[] = [];
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
  for (const share of [0.02, 0.05, 0.1, 0.2]) {
    const probes = Math.max(1, Math.round(lists * share));
    const times: number[] = [];
    let recall = 0;
    queryUsers.forEach((u, q) => {
      setQuery(u);
      const t0 = performance.now();
      const found = index.search(rows, query, seenOf(u), N, probes);
      times.push(performance.now() - t0);
      recall += recallOf(truth[q], found.items);
    });
    const d = distribution(times);
    sweep.push({ probeShare: share, probes, recallAt10: recall / queryUsers.length, queryMs: { p50: d.p50, p99: d.p99 } });
    console.log(`  probes ${probes} (${share * 100} %): recall@10 ${(recall / queryUsers.length).toFixed(3)}, p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`);
  }
  comparison.push({ index: `ivf-wasm-${augment ? 'augmented' : 'raw-ip'}`, lists, buildSeconds, bytes: index.bytes, bytesPerRawVectors: index.bytes / rawBytes, sweep });
  core.release(mark);
}

await pool.close();
comparison.push(...(await usearchComparison()));

async function usearchComparison(): Promise<unknown[]> {
  let usearch: typeof import('usearch');
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
      recall += recallOf(truth[q], kept);
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
const wanted = (userId: string) => ({ n: N, filter: (itemId: string) => categoryOf(itemId) === userId.length % CATEGORIES });

console.log(`model index built in ${modelBuildSeconds.toFixed(1)} s (default: ${PROBE_SHARE * 100} % of lists probed, ${probesFor(Math.round(Math.sqrt(nItems)), N)} for a top-10)`);
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
userIds.forEach((userId, q) => {
  const history = model.userHistory(userId);
  history.push({ itemId: state.items[rng.int(nItems)], value: 2 });
  const t0 = performance.now();
  model.foldInUser(`live-${q}`, history);
  model.recommend(`live-${q}`, { n: N });
  foldTimes.push(performance.now() - t0);
});
const similar = distribution(similarTimes);
const live = distribution(foldTimes);
const served2 = {
  lists: Math.round(Math.sqrt(nItems)),
  buildSeconds: modelBuildSeconds,
  indexBytes: model.latent!.indexBytes,
  indexBytesPerRawVectors: model.latent!.indexBytes / rawBytes,
  recallAt10: listRecall(exact.lists, approx.lists),
  recallAt10Category: listRecall(exactFiltered.lists, approxFiltered.lists),
  similarRecallAt10: similarRecall / similarIds.length,
  recommendMs: { exact: exact.ms, ann: approx.ms, exactCategory: exactFiltered.ms, annCategory: approxFiltered.ms },
  similarMs: { p50: similar.p50, p99: similar.p99 },
  foldInAndRecommendMs: { p50: live.p50, p99: live.p99 },
};
console.log(served2);

writeResult('ann', {
  method:
    `ImplicitAls k=${K} (${FIT.iterations} iterations, 2 threads) fitted on synthetic data: ${ITEMS} items (Zipf 1, every item touched), ` +
    `${ITEMS / 4} users, ${4 * ITEMS} interactions, seed 7. ${QUERIES} seeded query users with a history; their seen items excluded. ` +
    'Recall@10 = share of the exact top-10 (full scan) found. "comparison": index kernels on the raw factors, one query at a time on one thread. ' +
    `"served": the model's recommend/similarItems/foldInUser with the default index (${PROBE_SHARE * 100} % of √items lists probed), ` +
    `a category filter keeping 1 item in ${CATEGORIES}. Memory: bytes the index holds beside the item vectors (usearch: RSS growth, it holds its own copy).`,
  items: nItems,
  k: K,
  rawVectorBytes: rawBytes,
  exactQueryMs: exactMs,
  results: { comparison, served: served2 },
});

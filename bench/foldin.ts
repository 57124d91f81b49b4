/**
 * Fold-in + top-10 latency → bench/results/foldin.json. A benchmark, not a test: it asserts nothing.
 *
 * For catalogs of 10k, 100k and 1M items (k = 64) an ImplicitAls is fitted on a small synthetic
 * set that touches every item (2 iterations: the fit is only there to give realistic factors).
 * Then, for histories of 10, 100 and 1000 items (Zipf-popular items, weights 1–3), each call
 * folds a new user in from the history (`foldInUser`: one exact k×k solve) and ranks the whole
 * catalog for them (`recommend`, n = 10, seen items excluded): what POST /v1/feedback does per
 * event after the store write. ≥ 1000 timed calls per cell after 50 untimed ones.
 *
 *   npx tsx bench/foldin.ts [--quick]
 */
import { Rng } from '../src/data/rng.ts';
import { createModel } from '../src/model/index.ts';
import type { UserInteraction } from '../src/model/types.ts';
import { collectGarbage, distribution, fmtSeconds, isQuick, syntheticInteractions, writeResult } from './lib.ts';

const quick = isQuick();
const K = 64;
const catalogs = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const historySizes = [10, 100, 1000];
const calls = quick ? 100 : 1000;
const warmupCalls = quick ? 10 : 50;
const fitParams = { factors: K, iterations: 2 };

/** h distinct items drawn by Zipf popularity (rank r ∝ 1/r) from a catalog of n, as model ids. */
function history(rng: Rng, cdf: Float64Array, rankToItem: Int32Array, h: number): UserInteraction[] {
  const picked = new Set<number>();
  const total = cdf[cdf.length - 1];
  while (picked.size < h) {
    const target = rng.next() * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    picked.add(rankToItem[lo]);
  }
  return [...picked].map((i) => ({ itemId: `i${i}`, value: 1 + rng.int(3) }));
}

const results = [];
for (const items of catalogs) {
  collectGarbage();
  const users = Math.max(5_000, items / 4);
  const interactions = Math.max(50_000, 2 * items);
  const data = syntheticInteractions({ users, items, interactions, seed: 3, everyItem: true });
  const fitStart = performance.now();
  const model = createModel('implicit-als', fitParams).fit(data);
  const fitSeconds = (performance.now() - fitStart) / 1000;
  console.log(`${items} items: fitted ${data.users.size} users × ${data.items.size} items, ${data.size} interactions in ${fitSeconds.toFixed(1)} s`);

  // Histories follow a Zipf popularity over the catalog, in a random rank order.
  const rng = new Rng(items);
  const rankToItem = Int32Array.from({ length: items }, (_, i) => i);
  rng.shuffle(rankToItem);
  const cdf = new Float64Array(items);
  for (let r = 0, s = 0; r < items; r++) cdf[r] = s += 1 / (r + 1);

  for (const h of historySizes) {
    const total = warmupCalls + calls;
    const histories = Array.from({ length: total }, () => history(rng, cdf, rankToItem, h));
    const foldIn = new Float64Array(calls);
    const recommend = new Float64Array(calls);
    const both = new Float64Array(calls);
    let checksum = 0;
    for (let c = 0; c < total; c++) {
      const userId = `bench-${h}-${c}`;
      const t0 = performance.now();
      model.foldInUser(userId, histories[c]);
      const t1 = performance.now();
      const top = model.recommend(userId, { n: 10 });
      const t2 = performance.now();
      checksum += top.length;
      if (c >= warmupCalls) {
        foldIn[c - warmupCalls] = t1 - t0;
        recommend[c - warmupCalls] = t2 - t1;
        both[c - warmupCalls] = t2 - t0;
      }
    }
    if (checksum !== total * 10) throw new Error(`expected 10 recommendations per call, got ${checksum / total} on average`);
    const d = distribution(both);
    console.log(
      `  history ${String(h).padStart(4)}: fold-in + top-10 p50 ${fmtSeconds(d.p50 / 1e3)}  p90 ${fmtSeconds(d.p90 / 1e3)}  p99 ${fmtSeconds(d.p99 / 1e3)}  max ${fmtSeconds(d.max / 1e3)}`,
    );
    results.push({
      items,
      historyItems: h,
      calls,
      totalMs: d,
      foldInMs: distribution(foldIn),
      recommendMs: distribution(recommend),
      model: { users: data.users.size, items: data.items.size, trainInteractions: data.size, fitSeconds },
    });
  }
}

writeResult('foldin', {
  method:
    `Per call: model.foldInUser(newUser, history) then model.recommend(newUser, { n: 10 }) on an ImplicitAls (k = ${K}, cgSteps 3, ` +
    `fitted for ${fitParams.iterations} iterations on synthetic data touching every item), timed with performance.now(); ` +
    `${calls} timed calls per cell after ${warmupCalls} untimed, each a new user with a distinct Zipf-popular history (weights 1–3). ` +
    'Milliseconds. Model-level: no HTTP, no store.',
  k: K,
  results,
});

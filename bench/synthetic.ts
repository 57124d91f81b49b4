/**
 * Seeded synthetic implicit interactions for the speed benchmarks: item popularity follows a
 * power law (Zipf, exponent ~1: the r-th most popular item is drawn ∝ 1/r^s) and user activity
 * is log-normal (a user's share of all draws ∝ exp(σ·N(0,1))). Users and items are drawn
 * independently, repeated (user, item) draws are merged, and the merged count is the value, so
 * values are small positive integers like click counts.
 *
 * As a module: `generate({ users, items, interactions, seed })` → deduplicated typed arrays.
 * As a script, a `user,item,value,timestamp` CSV (the generic format src/eval/readers.ts reads),
 * or with `--feedback` a `userId,itemId,type,timestamp` CSV (what `liverec import --feedback` reads):
 *   npx tsx bench/synthetic.ts --users 100000 --items 50000 --interactions 1000000 [--seed 1] [--feedback] [--out file.csv]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/data/rng.ts';

export interface SyntheticOptions {
  users: number;
  items: number;
  /** Distinct (user, item) pairs wanted; the result has exactly this many. */
  interactions: number;
  seed?: number;
  /** Zipf exponent of item popularity (default 1). */
  zipf?: number;
  /** σ of the log-normal user activity (default 1.2: the busiest 1% of users make ~10% of draws). */
  activitySigma?: number;
  /** Give every item at least one interaction first, so the data spans exactly `items` items. */
  everyItem?: boolean;
}

export interface SyntheticData {
  /** Index ranges: user indices are < users, item indices < items (some may be unused unless everyItem). */
  users: number;
  items: number;
  userIdx: Int32Array;
  itemIdx: Int32Array;
  /** How many times the pair was drawn (≥ 1). */
  values: Float32Array;
  /** Number of distinct users / items that actually occur. */
  usedUsers: number;
  usedItems: number;
}

/** Cumulative weights for inverse-CDF sampling. */
function cumulative(weights: Float64Array): Float64Array {
  const cdf = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) cdf[i] = s += weights[i];
  return cdf;
}

/** The first index whose cumulative weight exceeds u·total. */
function sample(cdf: Float64Array, u: number): number {
  const target = u * cdf[cdf.length - 1];
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function generate(options: SyntheticOptions): SyntheticData {
  const { users, items, interactions, seed = 1, zipf = 1, activitySigma = 1.2, everyItem = false } = options;
  if (!(users > 0 && items > 0 && interactions > 0)) throw new RangeError('users, items and interactions must be positive');
  if (interactions > users * items * 0.5) throw new RangeError('interactions must be at most half of users × items');
  if (everyItem && interactions < items) throw new RangeError('everyItem needs interactions ≥ items');
  const rng = new Rng(seed);

  // Popularity rank r → item index: a random permutation, so popular items are spread over the index range.
  const rankToItem = new Int32Array(items);
  for (let i = 0; i < items; i++) rankToItem[i] = i;
  rng.shuffle(rankToItem);
  const itemWeights = new Float64Array(items);
  for (let r = 0; r < items; r++) itemWeights[r] = 1 / (r + 1) ** zipf;
  const userWeights = new Float64Array(users);
  for (let u = 0; u < users; u++) userWeights[u] = Math.exp(activitySigma * rng.normal());
  const itemCdf = cumulative(itemWeights);
  const userCdf = cumulative(userWeights);

  // Draw keys u·items + i (exact in a double: users·items < 2^53), sort, and merge repeats;
  // draw more until there are enough distinct pairs.
  let drawn = new Float64Array(Math.ceil(interactions * 1.1) + 16);
  let count = 0;
  const push = (u: number, i: number) => {
    if (count === drawn.length) {
      const grown = new Float64Array(Math.ceil(drawn.length * 1.5));
      grown.set(drawn);
      drawn = grown;
    }
    drawn[count++] = u * items + i;
  };
  if (everyItem) for (let i = 0; i < items; i++) push(sample(userCdf, rng.next()), i);
  let distinct = 0;
  // Distinct pairs per draw so far: sizes the next round so that one or two rounds suffice
  // (each round re-sorts everything drawn).
  let yieldRate = 0.9;
  for (let round = 0; distinct < interactions; round++) {
    if (round > 100) throw new Error(`could not draw ${interactions} distinct pairs; the distribution is too concentrated`);
    const need = Math.ceil(((interactions - distinct) / yieldRate) * 1.1) + 16 - (round === 0 && everyItem ? items : 0);
    for (let t = 0; t < need; t++) push(sample(userCdf, rng.next()), rankToItem[sample(itemCdf, rng.next())]);
    const view = drawn.subarray(0, count);
    view.sort();
    const before = distinct;
    distinct = 0;
    for (let t = 0; t < count; t++) if (t === 0 || view[t] !== view[t - 1]) distinct++;
    yieldRate = Math.max(round === 0 ? distinct / count : (distinct - before) / need, 0.02);
  }

  // Distinct keys with their draw counts.
  const keys = new Float64Array(distinct);
  const counts = new Float32Array(distinct);
  for (let t = 0, d = -1; t < count; t++) {
    if (t === 0 || drawn[t] !== drawn[t - 1]) keys[++d] = drawn[t];
    counts[d]++;
  }
  // A random subset of exactly `interactions` pairs, in random order; with everyItem, each
  // item's first pair is kept so no item drops out.
  const order = new Int32Array(distinct);
  for (let t = 0; t < distinct; t++) order[t] = t;
  rng.shuffle(order);
  if (everyItem) {
    const kept = new Uint8Array(items);
    let front = 0;
    for (let t = 0; t < distinct; t++) {
      const item = keys[order[t]] % items;
      if (!kept[item]) {
        kept[item] = 1;
        const tmp = order[front];
        order[front++] = order[t];
        order[t] = tmp;
      }
    }
    // The items' pairs now lead; shuffle them back among the rest of the kept prefix.
    const prefix = order.subarray(0, interactions);
    rng.shuffle(prefix);
  }

  const userIdx = new Int32Array(interactions);
  const itemIdx = new Int32Array(interactions);
  const values = new Float32Array(interactions);
  const seenUser = new Uint8Array(users);
  const seenItem = new Uint8Array(items);
  let usedUsers = 0;
  let usedItems = 0;
  for (let t = 0; t < interactions; t++) {
    const key = keys[order[t]];
    const u = Math.floor(key / items);
    const i = key - u * items;
    userIdx[t] = u;
    itemIdx[t] = i;
    values[t] = counts[order[t]];
    if (!seenUser[u]) (seenUser[u] = 1), usedUsers++;
    if (!seenItem[i]) (seenItem[i] = 1), usedItems++;
  }
  return { users, items, userIdx, itemIdx, values, usedUsers, usedItems };
}

/**
 * The data with dense ids for Interactions.fromArrays: only users/items that occur, numbered in
 * order of first appearance, named `u<index>` / `i<index>` after their generator index.
 */
export function densify(data: SyntheticData): { users: string[]; items: string[]; userIdx: Int32Array; itemIdx: Int32Array; values: Float32Array } {
  const remap = (idx: Int32Array, range: number, prefix: string) => {
    const dense = new Int32Array(range).fill(-1);
    const names: string[] = [];
    const out = new Int32Array(idx.length);
    for (let t = 0; t < idx.length; t++) {
      const x = idx[t];
      if (dense[x] < 0) {
        dense[x] = names.length;
        names.push(prefix + x);
      }
      out[t] = dense[x];
    }
    return { names, out };
  };
  const u = remap(data.userIdx, data.users, 'u');
  const i = remap(data.itemIdx, data.items, 'i');
  return { users: u.names, items: i.names, userIdx: u.out, itemIdx: i.out, values: data.values };
}

/** Event times for synthetic rows: uniform over the year 2024, epoch ms, seeded. */
export function timestamps(n: number, seed = 1): Float64Array {
  const rng = new Rng(seed ^ 0x5eed);
  const start = Date.UTC(2024, 0, 1);
  const span = 366 * 86_400_000;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = start + Math.floor(rng.next() * span);
  return out;
}

/**
 * The event type a pair becomes in a feedback file: the more often it was drawn, the stronger
 * the signal (once a view, twice a click, three times or more a purchase).
 */
function feedbackType(draws: number): string {
  return draws >= 3 ? 'purchase' : draws === 2 ? 'click' : 'view';
}

/** Writes the data as CSV to `path` (stdout when null): the generic interaction format, or `liverec import --feedback`'s. */
export function writeCsv(data: SyntheticData, path: string | null, seed: number, feedback = false): void {
  const fd = path ? openSync(path, 'w') : 1;
  const ts = timestamps(data.values.length, seed);
  try {
    let chunk = feedback ? 'userId,itemId,type,timestamp\n' : 'user,item,value,timestamp\n';
    for (let t = 0; t < data.values.length; t++) {
      chunk += feedback
        ? `u${data.userIdx[t]},i${data.itemIdx[t]},${feedbackType(data.values[t])},${ts[t]}\n`
        : `u${data.userIdx[t]},i${data.itemIdx[t]},${data.values[t]},${ts[t]}\n`;
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
  } finally {
    if (path) closeSync(fd);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
  };
  const seed = Number(arg('seed', '1'));
  const options: SyntheticOptions = {
    users: Number(arg('users', '100000')),
    items: Number(arg('items', '50000')),
    interactions: Number(arg('interactions', '1000000')),
    seed,
    zipf: Number(arg('zipf', '1')),
    everyItem: process.argv.includes('--every-item'),
  };
  const out = arg('out', '');
  const started = performance.now();
  const data = generate(options);
  writeCsv(data, out || null, seed, process.argv.includes('--feedback'));
  process.stderr.write(
    `${data.values.length} interactions, ${data.usedUsers} users, ${data.usedItems} items in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      (out ? ` → ${out}\n` : '\n'),
  );
}

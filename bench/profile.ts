/**
 * Living-profile latency on a real engine → bench/results/profile.json. A benchmark, not a
 * test: it asserts nothing.
 *
 * An engine is seeded with ml-latest-small as `liverec import` does it (movies.csv genres →
 * item categories, ratings.csv → rating events) in a SQLite file in a temp dir, trained once
 * (`trainNow`, default config: implicit ALS, engine signals with decay). Then, rotating over
 * the 610 users, after one untimed pass over every user (JIT, history cache), per call:
 *   profile       engine.profile(userId): decayed category interests, segment, drift, activity
 *   recommend     engine.recommend(userId, { n: 10 }): the pure-compute read path
 *   addFeedback   engine.addFeedback(rating, 10): durable store write (SQLite synchronous = FULL,
 *                 an fsync per commit) + fold-in from the user's whole history + updated top-10
 * and, to split addFeedback into its parts (not engine API calls, the same work done directly):
 *   storeWrite    store.addFeedback of one event alone: the commit
 *   foldInCompute userSignals over the user's history + foldInUser + recommend top-10 on a
 *                 copy of the served model: addFeedback without the write
 * Retrains are off (retrainEvery 0, retrainMinutes 0) so no background fit competes. Numbers
 * are wall clock on a possibly shared machine: `machine.loadAverage` says how busy it was.
 *
 *   npx tsx bench/profile.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importFiles } from '../src/cli/import.ts';
import { Engine } from '../src/engine/engine.ts';
import { userSignals } from '../src/engine/signals.ts';
import { loadModel } from '../src/model/index.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { FeedbackInput } from '../src/store/types.ts';
import { ROOT, distribution, isQuick, writeResult } from './lib.ts';

const quick = isQuick();
const CALLS = quick ? 200 : 2000;
const N = 10;
const movies = join(ROOT, 'data/ml-latest-small/movies.csv');
const ratings = join(ROOT, 'data/ml-latest-small/ratings.csv');
const config = { retrainEvery: 0, retrainMinutes: 0 };

const dir = mkdtempSync(join(tmpdir(), 'liverec-profile-'));
const dbPath = join(dir, 'ml.db');
const store = SqliteStore.open(dbPath);
let engine: Engine | null = null;
try {
  let start = performance.now();
  await importFiles(store, { movies, ratings }, { out: () => undefined, err: (text) => process.stderr.write(text) });
  const importSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  engine = await Engine.open(store, config);
  const info = await engine.trainNow();
  const trainSeconds = (performance.now() - start) / 1000;
  const e = engine;
  const users = await usersOf(store);
  const items = (await store.listItems()).map((i) => i.itemId);
  console.log(
    `imported ${await store.countFeedback()} ratings, ${items.length} items in ${importSeconds.toFixed(1)} s; ` +
      `trained model v${info.version} (${info.algorithm}) in ${trainSeconds.toFixed(1)} s; ${users.length} users, ${CALLS} timed calls each`,
  );

  /** Times `fn(user, i)` for each user once untimed, then `CALLS` times rotating over users; ms. */
  const time = (fn: (user: string, i: number) => unknown) => {
    for (let i = 0; i < users.length; i++) fn(users[i], i);
    const ms = new Float64Array(CALLS);
    for (let i = 0; i < CALLS; i++) {
      const user = users[i % users.length];
      const t = performance.now();
      fn(user, users.length + i);
      ms[i] = performance.now() - t;
    }
    return distribution(ms);
  };
  /** `time` for calls that resolve later (addFeedback resolves after its group commit). */
  const timeAsync = async (fn: (user: string, i: number) => Promise<unknown>) => {
    for (let i = 0; i < users.length; i++) await fn(users[i], i);
    const ms = new Float64Array(CALLS);
    for (let i = 0; i < CALLS; i++) {
      const user = users[i % users.length];
      const t = performance.now();
      await fn(user, users.length + i);
      ms[i] = performance.now() - t;
    }
    return distribution(ms);
  };

  // A rating on an item the model knows, chosen per call; timestamps strictly increase so no
  // event is an exact duplicate (which the store would skip without a fold-in).
  let clock = Date.now();
  const event = (userId: string, i: number): FeedbackInput => ({
    userId, itemId: items[(i * 7919) % items.length], type: 'rating', value: 1 + (i % 9) / 2, timestamp: clock++,
  });

  const profile = await timeAsync((user) => e.profile(user));
  report('profile', profile);
  const recommend = await timeAsync((user) => e.recommend(user, { n: N }));
  report('recommend', recommend);
  let quarantined = 0;
  let notAccepted = 0;
  const addFeedback = await timeAsync(async (user, i) => {
    const r = await e.addFeedback(event(user, i), N);
    if (r.quarantined) quarantined++;
    if (r.accepted !== 1) notAccepted++;
  });
  report('addFeedback', addFeedback);
  const storeWrite = await timeAsync((user, i) => store.addFeedback([event(user, i)], { createMissingItems: true }));
  report('storeWrite', storeWrite);

  // The served model's bytes, loaded into a copy the benchmark can fold users into directly.
  const [meta] = await store.latestModels();
  const model = loadModel(await store.loadModelBytes(meta.version));
  const histories = new Map(await Promise.all(users.map(async (u) => [u, await store.userFeedback(u)] as const)));
  const foldInCompute = time((user) => {
    model.foldInUser(user, userSignals(histories.get(user)!, e.config, false));
    return model.recommend(user, { n: N });
  });
  report('foldInCompute', foldInCompute);
  if (quarantined || notAccepted) console.log(`warning: ${quarantined} addFeedback calls quarantined, ${notAccepted} not accepted`);

  writeResult('profile', {
    method:
      `ml-latest-small imported into SQLite (${dbPath.replace(dir, '<tmp>')}, WAL, synchronous = FULL) as \`liverec import\` does, engine trained once ` +
      `(default config, retrains off); per operation one untimed pass over all ${users.length} users, then ${CALLS} timed calls rotating over users. ` +
      'addFeedback = durable write + fold-in + top-10; recommend = read path only; storeWrite and foldInCompute split addFeedback into the commit and the compute. Times in ms.',
    dataset: { ratings: 'data/ml-latest-small/ratings.csv', movies: 'data/ml-latest-small/movies.csv', users: users.length, items: items.length },
    model: { version: info.version, algorithm: info.algorithm, params: info.params, importSeconds, trainSeconds },
    calls: CALLS,
    n: N,
    quarantinedCalls: quarantined,
    results: { profile, recommend, addFeedback, storeWrite, foldInCompute },
  });
} finally {
  await engine?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

function report(name: string, d: ReturnType<typeof distribution>): void {
  console.log(`${name.padEnd(14)} p50 ${d.p50.toFixed(3)} ms  p90 ${d.p90.toFixed(3)} ms  p99 ${d.p99.toFixed(3)} ms  max ${d.max.toFixed(3)} ms  (${d.count} calls)`);
}

/** Every user with stored feedback, in order of first appearance in the log. */
async function usersOf(s: SqliteStore): Promise<string[]> {
  const seen: string[] = [];
  const set = new Set<string>();
  await s.forEachFeedback((row) => {
    if (!set.has(row.userId)) {
      set.add(row.userId);
      seen.push(row.userId);
    }
  });
  return seen;
}

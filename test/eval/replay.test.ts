import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/engine/config.ts';
import { decay } from '../../src/engine/signals.ts';
import { InvalidInputError } from '../../src/errors.ts';
import type { RatingRow } from '../../src/eval/readers.ts';
import { replay } from '../../src/eval/replay.ts';
import { cli, tempDir } from '../cli/helpers.ts';

const row = (user: string, item: string, timestamp: number): RatingRow => ({ user, item, value: 1, timestamp });

/** Rows in the given order, one second apart. */
const timed = (pairs: Array<[string, string]>, start = 0): RatingRow[] => pairs.map(([u, i], t) => row(u, i, (start + t) * 1000));

/**
 * Popularity toy: a is liked by 3 users, b by 2, c and d by 1 each (c seen first, so c ranks
 * above d). Seven training events, then three test events.
 */
const TRAIN = timed([['u1', 'a'], ['u1', 'b'], ['u1', 'c'], ['u2', 'a'], ['u2', 'b'], ['u2', 'd'], ['u3', 'a']]);
const TOY = [...TRAIN, ...timed([['u3', 'b'], ['u4', 'c'], ['u3', 'c']], 100)];
const TOY_FRACTION = TRAIN.length / TOY.length;

describe('replay: hand-computed toy with the popular model, k = 2', () => {
  it('static: profiles stay as trained', async () => {
    const r = (await replay(TOY, { mode: 'static', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION, windows: 3 }));
    // (u3, b): u3 saw {a} → [b, c], rank 1 → 1.
    // (u4, c): unknown user → popularity [a, b], miss → 0.
    // (u3, c): u3 still saw only {a} in static mode → [b, c], rank 2 → 1/log2(3).
    expect(r.events).toBe(3);
    expect(r.trainEvents).toBe(7);
    expect(r.hitRate).toBeCloseTo(2 / 3, 12);
    expect(r.ndcg).toBeCloseTo((1 + 0 + 1 / Math.log2(3)) / 3, 12);
    expect(r.coldUserEvents).toBe(1);
    expect(r.repeatEvents).toBe(0);
    expect(r.unknownItemEvents).toBe(0);
    expect(r.windows.map((w) => [w.events, w.hitRate, w.ndcg])).toEqual([[1, 1, 1], [1, 0, 0], [1, 1, 1 / Math.log2(3)]]);
    // Cohorts count the user's events before each one, test events included even in static mode:
    // (u3, b) after 1, (u4, c) after 0, (u3, c) after 2.
    expect(r.cohorts).toEqual([
      { cohort: 'new', events: 1, hitRate: 0, ndcg: 0 },
      { cohort: '1-5', events: 2, hitRate: 1, ndcg: expect.closeTo((1 + 1 / Math.log2(3)) / 2, 12) },
      { cohort: '6-20', events: 0, hitRate: 0, ndcg: 0 },
      { cohort: '>20', events: 0, hitRate: 0, ndcg: 0 },
    ]);
    // Shown: [b, c], [a, b], [b, c] → 3 of the 4 items; training users per item a 3, b 2, c 1, d 1
    // → ranks a 1, b 2, c 3, d 3; slots (2 + 3) + (1 + 2) + (2 + 3) = 13 over 6.
    expect(r.coverage).toBeCloseTo(3 / 4, 12);
    expect(r.popularityRank).toBeCloseTo(13 / 6, 12);
  });

  it('fold-in: the event just ingested is excluded next time', async () => {
    const r = (await replay(TOY, { mode: 'fold-in', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION }));
    // (u3, b) → 1 as before; u3 now saw {a, b}. (u4, c) → 0. (u3, c): [c, d], rank 1 → 1.
    expect(r.hitRate).toBeCloseTo(2 / 3, 12);
    expect(r.ndcg).toBeCloseTo(2 / 3, 12);
  });

  it('counts unknown items and repeats as misses, never skipping them', async () => {
    const rows = [...TRAIN, ...timed([['u1', 'new'], ['u3', 'a'], ['u3', 'b']], 100)];
    const r = (await replay(rows, { mode: 'fold-in', algorithm: 'popular', k: 2, trainFraction: TRAIN.length / rows.length }));
    expect(r.events).toBe(3);
    expect(r.unknownItemEvents).toBe(1);
    expect(r.repeatEvents).toBe(1); // u3 already had a from training
    expect(r.hitRate).toBeCloseTo(1 / 3, 12); // only (u3, b) hits
  });

  it('sorts by timestamp, keeping file order for ties', async () => {
    const shuffled = [TOY[9], TOY[0], TOY[8], TOY[5], TOY[1], TOY[7], TOY[3], TOY[2], TOY[6], TOY[4]];
    const options = { mode: 'static', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION } as const;
    expect((await replay(shuffled, options))).toMatchObject({ ndcg: (await replay(TOY, options)).ndcg, windows: (await replay(TOY, options)).windows });
    // Same-second test events: fold-in order matters, and file order must decide it.
    const tied = (test: RatingRow[]) => [...TRAIN, ...test.map((r) => ({ ...r, timestamp: 100_000 }))];
    const foldIn = { ...options, mode: 'fold-in' } as const;
    expect((await replay(tied(TOY.slice(7)), foldIn)).ndcg).toBeCloseTo(2 / 3, 12); // as in the fold-in case above
    // (u3, c) first: [b, c] → 1/log2(3). Then the stranger (u4, c) gets the engine's live
    // popularity, where c (2 users, one just now) now leads b (2 users, earlier): [a, c] →
    // 1/log2(3). Then (u3, b) with {a, c} seen: [b, d] → 1.
    expect((await replay(tied([TOY[9], TOY[8], TOY[7]]), foldIn)).ndcg).toBeCloseTo((2 / Math.log2(3) + 1) / 3, 12);
  });
});

/**
 * Two taste clusters. A-fans and B-fans teach the model the clusters; each switcher is known
 * from two A items in training and then streams B items only. A frozen profile keeps pointing
 * at A, so only ingesting the switcher's first B events can predict the rest.
 */
function clusterStream(): { rows: RatingRow[]; trainFraction: number } {
  const A = Array.from({ length: 8 }, (_, i) => `a${i}`);
  const B = Array.from({ length: 8 }, (_, i) => `b${i}`);
  const pairs: Array<[string, string]> = [];
  for (let f = 0; f < 10; f++) {
    for (let i = 0; i < 8; i++) if ((f + i) % 4 !== 0) pairs.push([`fanA${f}`, A[i]], [`fanB${f}`, B[i]]);
  }
  for (let s = 0; s < 4; s++) pairs.push([`switch${s}`, A[s]], [`switch${s}`, A[s + 4]]);
  const train = pairs.length;
  for (let step = 0; step < 6; step++) for (let s = 0; s < 4; s++) pairs.push([`switch${s}`, B[(s + step) % 8]]);
  return { rows: timed(pairs), trainFraction: train / pairs.length };
}

describe('replay: profiles that learn as feedback arrives', () => {
  const { rows, trainFraction } = clusterStream();
  const common = { algorithm: 'implicit-als', params: { factors: 2, iterations: 10, reg: 0.1, alpha: 10 }, k: 3, trainFraction };

  it('fold-in beats static when later events depend on earlier test events', async () => {
    const frozen = (await replay(rows, { ...common, mode: 'static' }));
    const live = (await replay(rows, { ...common, mode: 'fold-in' }));
    expect(frozen.events).toBe(24);
    expect(live.events).toBe(24);
    expect(frozen.hitRate).toBe(0); // static keeps recommending A items
    // Ceiling ≈ 0.48: a switcher's first B event cannot be foreseen, and once the profile
    // points at B, k = 3 of the 8 − s unseen B items are shown at step s.
    expect(live.hitRate).toBeGreaterThan(0.3);
    expect(live.ndcg).toBeGreaterThan(frozen.ndcg);
  });

  it('fold-in+retrain refits every retrainEvery events, skipping a refit after the last', async () => {
    const r = (await replay(rows, { ...common, mode: 'fold-in+retrain', retrainEvery: 8 }));
    expect(r.retrains).toBe(2); // after events 8 and 16; 24 is the end
    expect(r.hitRate).toBeGreaterThan(0.3);
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    expect(r.msPerEvent).toBeCloseTo(1000 / r.eventsPerSecond, 6);
  });

  it('windows partition the test events in time order', async () => {
    const r = (await replay(rows, { ...common, mode: 'fold-in', windows: 5 }));
    expect(r.windows.map((w) => w.events)).toEqual([4, 5, 5, 5, 5]);
    expect(r.windows.reduce((s, w) => s + w.events, 0)).toBe(r.events);
    for (let w = 1; w < r.windows.length; w++) expect(r.windows[w].from >= r.windows[w - 1].to).toBe(true);
    const weighted = (key: 'hitRate' | 'ndcg') => r.windows.reduce((s, w) => s + w[key] * w.events, 0) / r.events;
    expect(weighted('hitRate')).toBeCloseTo(r.hitRate, 12);
    expect(weighted('ndcg')).toBeCloseTo(r.ndcg, 12);
    // More windows than events: one window per event.
    expect((await replay(rows, { ...common, mode: 'static', windows: 100 })).windows).toHaveLength(24);
  });
});

/**
 * Old interest vs recent interest, small enough to score by hand with item-knn (cosine, k = 1).
 * Three A-fans rate a0 a1 a2 and three B-fans rate b0 b1, all on day 0. Two switchers rated a0
 * and a1 on day 0 too; s1 rated b0 on day 1000, still in training. The test events: s1 rates b1
 * on day 1001, then s2 rates b0 and b1 just after. Every rating is 1 star, so decay is the only
 * thing that differs from flat weights.
 */
const DAY = 86_400_000;
function switchers(): { rows: RatingRow[]; trainFraction: number } {
  const rows: RatingRow[] = [];
  const rate = (user: string, item: string, day: number, ms = 0) => rows.push({ user, item, value: 1, timestamp: day * DAY + ms });
  for (let f = 0; f < 3; f++) {
    for (const item of ['a0', 'a1', 'a2']) rate(`fanA${f}`, item, 0);
    for (const item of ['b0', 'b1']) rate(`fanB${f}`, item, 0);
  }
  for (const s of ['s1', 's2']) for (const item of ['a0', 'a1']) rate(s, item, 0);
  rate('s1', 'b0', 1000);
  const train = rows.length; // 20
  rate('s1', 'b1', 1001);
  rate('s2', 'b0', 1001, 1000);
  rate('s2', 'b1', 1001, 2000);
  return { rows, trainFraction: train / rows.length };
}

describe('replay: decay signals (hand-computed, item-knn, k = 1)', () => {
  const { rows, trainFraction } = switchers();
  const run = (mode: 'static' | 'fold-in', signals: 'flat' | 'decay', halfLifeDays?: number) =>
    replay(rows, { mode, signals, halfLifeDays, algorithm: 'item-knn', k: 1, trainFraction, windows: 3 });
  // A rating 1000 days older than the user's latest event, with the default 365-day half-life:
  // 2^(−1000/365) ≈ 0.150 (above the engine's decay floor).
  const d = decay('rating', 1000 * DAY, resolveConfig());

  it('flat: the two old A items outvote the one recent B item, so A keeps the top spot', async () => {
    // Item columns: a0 = a1 = {3 A-fans, s1, s2}, a2 = {3 A-fans}: cos(a0, a2) = 3/√15 ≈ 0.775.
    // b0 = {3 B-fans, s1}, b1 = {3 B-fans}: cos(b0, b1) = 3/√12 ≈ 0.866; no A–B overlap
    // but s1, so cos(a0, b0) = 1/(√5·2) ≈ 0.224 and cos(a0, b1) = 0.
    // s1 (and s2 once b0 is folded in) has {a0, a1, b0}: a2 scores 2·0.775 = 1.549 > b1 0.866.
    for (const mode of ['static', 'fold-in'] as const) {
      const r = await run(mode, 'flat');
      expect(r).toMatchObject({ signals: 'flat', halfLifeDays: null, decayFloor: null, events: 3, trainEvents: 20 });
      expect(r.windows.map((w) => w.hitRate)).toEqual([0, 0, 0]);
    }
  });

  it('decay: the recent B item outweighs the faded A items, in training and in fold-in', async () => {
    expect(d).toBeGreaterThan(resolveConfig().decayFloor);
    expect(d).toBeCloseTo(2 ** (-1000 / 365), 12);
    // Training: s1's a0, a1 weigh d (b0 is their latest event), s2's weigh 1 (a1 is theirs).
    // a0 = a1 = {1,1,1, d, 1}: cos(a0, a2) = 3/(√3·√(4 + d²)) ≈ 0.864; cos(b0, b1) ≈ 0.866 as flat.
    const cosA = 3 / (Math.sqrt(3) * Math.sqrt(4 + d * d));
    const cosB = 3 / Math.sqrt(12);
    // (s1, b1): a2 scores 2·d·cosA ≈ 0.26 < b1's 1·cosB → b1 tops the list: a hit.
    expect(2 * d * cosA).toBeLessThan(cosB);
    // (s2, b0): s2 still has only {a0, a1}: a2 (2·cosA) beats b0 (2·cos(a0, b0), tiny) → miss.
    // (s2, b1): static still sees {a0, a1} → a2, a miss; fold-in has b0 now (age 0) and a0, a1
    //           1000 days older (weight d): the same scores as s1 → b1, a hit.
    const frozen = await run('static', 'decay');
    expect(frozen).toMatchObject({ signals: 'decay', halfLifeDays: 365, decayFloor: resolveConfig().decayFloor });
    expect(frozen.windows.map((w) => w.hitRate)).toEqual([1, 0, 0]);
    expect(frozen.hitRate).toBeCloseTo(1 / 3, 12);
    const live = await run('fold-in', 'decay');
    expect(live.windows.map((w) => w.hitRate)).toEqual([1, 0, 1]);
    expect(live.hitRate).toBeCloseTo(2 / 3, 12);
    // k = 1: every hit is at rank 1.
    expect(live.ndcg).toBeCloseTo(live.hitRate, 12);
  });

  it('half-life 0 keeps the star weights but never decays: with 1-star ratings it is flat', async () => {
    for (const mode of ['static', 'fold-in'] as const) {
      const r = await run(mode, 'decay', 0);
      expect(r.halfLifeDays).toBe(0);
      expect(r.windows.map((w) => w.hitRate)).toEqual([0, 0, 0]);
    }
  });
});

describe('replay: decay signals with implicit ALS', () => {
  const { rows, trainFraction } = clusterStream();
  const common = { algorithm: 'implicit-als', params: { factors: 2, iterations: 10, reg: 0.1, alpha: 10 }, k: 3, trainFraction };
  const metrics = (r: Awaited<ReturnType<typeof replay>>) => ({ hitRate: r.hitRate, ndcg: r.ndcg, windows: r.windows });

  it('1-star ratings without decay give exactly the flat model: same ids, same weights, same fit', async () => {
    // The stream's rows are 1-star ratings one second apart: decay over seconds is ~1, but only
    // half-life 0 makes every weight exactly 1.
    for (const mode of ['static', 'fold-in', 'fold-in+retrain'] as const) {
      const flat = (await replay(rows, { ...common, mode, retrainEvery: 8 }));
      const engine = (await replay(rows, { ...common, mode, retrainEvery: 8, signals: 'decay', halfLifeDays: 0 }));
      expect(metrics(engine)).toEqual(metrics(flat));
    }
  });

  it('weighs ratings per star: 5-star events change the model where flat ignores the stars', async () => {
    const starred = rows.map((r, t) => ({ ...r, value: t % 2 === 0 ? 5 : 0.5 }));
    const flat = (await replay(starred, { ...common, mode: 'fold-in' }));
    expect(metrics(flat)).toEqual(metrics((await replay(rows, { ...common, mode: 'fold-in' }))));
    const engine = (await replay(starred, { ...common, mode: 'fold-in', signals: 'decay', halfLifeDays: 0 }));
    expect(engine.windows.map((w) => w.ndcg)).not.toEqual(flat.windows.map((w) => w.ndcg));
  });
});

describe('replay --signals (CLI)', () => {
  const { rows, trainFraction } = switchers();
  const tmp = tempDir();
  const file = tmp.write('switchers.csv', ['user,item,value,timestamp', ...rows.map((r) => `${r.user},${r.item},${r.value},${r.timestamp}`)].join('\n') + '\n');
  const args = ['replay', '--events', file, '--algorithm', 'item-knn', '--k', '1', '--train-fraction', trainFraction.toFixed(4), '--windows', '3'];
  const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

  it('both: "modes" stays the flat run, "signals" holds flat and decay', async () => {
    const { code, stdout, stderr } = await cli(...args, '--signals', 'both', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = lastLine(stdout);
    expect(Object.keys(json)).toEqual(['modes', 'signals']);
    expect(Object.keys(json.signals)).toEqual(['flat', 'decay']);
    expect(json.modes).toEqual(json.signals.flat);
    for (const kind of ['flat', 'decay']) expect(Object.keys(json.signals[kind])).toEqual(['static', 'fold-in', 'fold-in+retrain']);
    expect(json.signals.flat['fold-in']).toMatchObject({ signals: 'flat', halfLifeDays: null, decayFloor: null, events: 3, hitRate: 0 });
    expect(json.signals.decay.static).toMatchObject({ signals: 'decay', halfLifeDays: 365, events: 3 });
    expect(json.signals.decay.static.hitRate).toBeCloseTo(1 / 3, 12);
    expect(json.signals.decay['fold-in'].hitRate).toBeCloseTo(2 / 3, 12);
  });

  it('flat by default, as before; decay alone with its half-life', async () => {
    const flat = lastLine((await cli(...args, '--mode', 'fold-in', '--json')).stdout);
    expect(Object.keys(flat.modes)).toEqual(['fold-in']);
    expect(flat.modes['fold-in']).toMatchObject({ signals: 'flat', hitRate: 0 });
    expect(flat.signals).toEqual({ flat: flat.modes });
    const decayed = lastLine((await cli(...args, '--mode', 'fold-in', '--signals', 'decay', '--half-life-days', '90', '--json')).stdout);
    expect(decayed.modes['fold-in']).toMatchObject({ signals: 'decay', halfLifeDays: 90 });
    expect(decayed.signals).toEqual({ decay: decayed.modes });
  });

  it('prints a flat vs decay comparison, and rejects a bad signals kind or half-life', async () => {
    const { code, stdout } = await cli(...args, '--mode', 'fold-in', '--signals', 'both');
    expect(code).toBe(0);
    expect(stdout).toMatch(/fold-in, decay signals \(half-life 365 days\)/);
    expect(stdout).toMatch(/decay signals \(half-life 365 days\) vs flat, fold-in: hit-rate n\/a \(flat is 0\), NDCG n\/a \(flat is 0\); [\d.]+ → [\d.]+ ms\/event/);
    const bad = await cli(...args, '--signals', 'fresh');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--signals/);
    const negative = await cli(...args, '--signals', 'decay', '--half-life-days', '-1');
    expect(negative.code).toBe(1);
    expect(negative.stderr).toMatch(/--half-life-days/);
  });
});

describe('replay --blend (CLI)', () => {
  const { rows, trainFraction } = switchers();
  const tmp = tempDir();
  const file = tmp.write('switchers.csv', ['user,item,value,timestamp', ...rows.map((r) => `${r.user},${r.item},${r.value},${r.timestamp}`)].join('\n') + '\n');
  const items = tmp.write('items.jsonl', ['a0', 'a1', 'a2', 'b0', 'b1'].map((itemId) => JSON.stringify({ itemId, categories: [itemId[0].toUpperCase()] })).join('\n') + '\n');
  const args = ['replay', '--events', file, '--items', items, '--algorithm', 'item-knn', '--k', '1', '--train-fraction', trainFraction.toFixed(4), '--mode', 'fold-in'];

  it('runs with and without the blend, keyed "flat" and "flat+blend", each with its cohorts', async () => {
    const { code, stdout, stderr } = await cli(...args, '--blend', 'both', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(json.signals)).toEqual(['flat', 'flat+blend']);
    expect(json.signals.flat['fold-in'].blend).toBe(false);
    expect(json.signals['flat+blend']['fold-in'].blend).toEqual({ historyItems: 20 });
    // The three test events: s1 after 3 events, s2 after 2 and 3: all in the 1-5 cohort.
    for (const run of ['flat', 'flat+blend']) {
      expect(json.signals[run]['fold-in'].cohorts.map((c: { cohort: string; events: number }) => [c.cohort, c.events])).toEqual([['new', 0], ['1-5', 3], ['6-20', 0], ['>20', 0]]);
    }
    const human = await cli(...args, '--blend', 'both', '--blend-history-items', '5');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/fold-in, flat signals, blend to 5 items/);
    expect(human.stdout).toMatch(/blend vs none, fold-in \(flat\): hit-rate .*\(new .*, 1-5 .*\)/);
  });

  it('names a missing or conflicting catalog file', async () => {
    const missing = await cli(...args.filter((a) => a !== '--items' && a !== items), '--movies', tmp.path('nope.csv'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: no such file/);
    const both = await cli(...args, '--movies', items);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/--items: give item categories with --movies or --items, not both/);
  });
});

describe('replay: rules', () => {
  it.each([0, 1, -0.5, 1.5, NaN])('rejects trainFraction %s', async (trainFraction) => {
    await expect(replay(TOY, { mode: 'static', trainFraction })).rejects.toThrow(/trainFraction/);
  });

  it('rejects a fraction that leaves one side empty, an unknown mode and a bad k', async () => {
    await expect(replay(TOY, { mode: 'static', trainFraction: 0.01 })).rejects.toThrow(/no training events/);
    await expect(replay(TOY, { mode: 'static', trainFraction: 0.99 })).rejects.toThrow(/no test events/);
    await expect(replay(TOY, { mode: 'live' as never })).rejects.toThrow(InvalidInputError);
    await expect(replay(TOY, { mode: 'static', k: 0 })).rejects.toThrow(/k must be a positive integer/);
  });

  it('rejects unknown signals, a negative or non-finite half-life, and a custom weight with decay', async () => {
    await expect(replay(TOY, { mode: 'static', signals: 'fresh' as never })).rejects.toThrow(/unknown signals 'fresh'/);
    for (const halfLifeDays of [-1, NaN, Infinity]) {
      await expect(replay(TOY, { mode: 'static', signals: 'decay', halfLifeDays })).rejects.toThrow(/halfLifeDays must be a non-negative number/);
    }
    await expect(replay(TOY, { mode: 'static', signals: 'decay', weight: () => 2 })).rejects.toThrow(/flat signals only/);
    // The half-life only matters for decay: flat ignores it.
    expect((await replay(TOY, { mode: 'static', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION, halfLifeDays: -1 })).halfLifeDays).toBeNull();
  });
});

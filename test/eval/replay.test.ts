import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.ts';
import type { RatingRow } from '../../src/eval/readers.ts';
import { replay } from '../../src/eval/replay.ts';

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
  it('static: profiles stay as trained', () => {
    const r = replay(TOY, { mode: 'static', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION, windows: 3 });
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
  });

  it('fold-in: the event just ingested is excluded next time', () => {
    const r = replay(TOY, { mode: 'fold-in', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION });
    // (u3, b) → 1 as before; u3 now saw {a, b}. (u4, c) → 0. (u3, c): [c, d], rank 1 → 1.
    expect(r.hitRate).toBeCloseTo(2 / 3, 12);
    expect(r.ndcg).toBeCloseTo(2 / 3, 12);
  });

  it('counts unknown items and repeats as misses, never skipping them', () => {
    const rows = [...TRAIN, ...timed([['u1', 'new'], ['u3', 'a'], ['u3', 'b']], 100)];
    const r = replay(rows, { mode: 'fold-in', algorithm: 'popular', k: 2, trainFraction: TRAIN.length / rows.length });
    expect(r.events).toBe(3);
    expect(r.unknownItemEvents).toBe(1);
    expect(r.repeatEvents).toBe(1); // u3 already had a from training
    expect(r.hitRate).toBeCloseTo(1 / 3, 12); // only (u3, b) hits
  });

  it('sorts by timestamp, keeping file order for ties', () => {
    const shuffled = [TOY[9], TOY[0], TOY[8], TOY[5], TOY[1], TOY[7], TOY[3], TOY[2], TOY[6], TOY[4]];
    const options = { mode: 'static', algorithm: 'popular', k: 2, trainFraction: TOY_FRACTION } as const;
    expect(replay(shuffled, options)).toMatchObject({ ndcg: replay(TOY, options).ndcg, windows: replay(TOY, options).windows });
    // Same-second test events: fold-in order matters, and file order must decide it.
    const tied = (test: RatingRow[]) => [...TRAIN, ...test.map((r) => ({ ...r, timestamp: 100_000 }))];
    const foldIn = { ...options, mode: 'fold-in' } as const;
    expect(replay(tied(TOY.slice(7)), foldIn).ndcg).toBeCloseTo(2 / 3, 12); // as in the fold-in case above
    // (u3, c) first: [b, c] → 1/log2(3); then (u3, b) with {a, c} seen: [b, d] → 1.
    expect(replay(tied([TOY[9], TOY[8], TOY[7]]), foldIn).ndcg).toBeCloseTo((1 / Math.log2(3) + 0 + 1) / 3, 12);
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

  it('fold-in beats static when later events depend on earlier test events', () => {
    const frozen = replay(rows, { ...common, mode: 'static' });
    const live = replay(rows, { ...common, mode: 'fold-in' });
    expect(frozen.events).toBe(24);
    expect(live.events).toBe(24);
    expect(frozen.hitRate).toBe(0); // static keeps recommending A items
    // Ceiling ≈ 0.48: a switcher's first B event cannot be foreseen, and once the profile
    // points at B, k = 3 of the 8 − s unseen B items are shown at step s.
    expect(live.hitRate).toBeGreaterThan(0.3);
    expect(live.ndcg).toBeGreaterThan(frozen.ndcg);
  });

  it('fold-in+retrain refits every retrainEvery events, skipping a refit after the last', () => {
    const r = replay(rows, { ...common, mode: 'fold-in+retrain', retrainEvery: 8 });
    expect(r.retrains).toBe(2); // after events 8 and 16; 24 is the end
    expect(r.hitRate).toBeGreaterThan(0.3);
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    expect(r.msPerEvent).toBeCloseTo(1000 / r.eventsPerSecond, 6);
  });

  it('windows partition the test events in time order', () => {
    const r = replay(rows, { ...common, mode: 'fold-in', windows: 5 });
    expect(r.windows.map((w) => w.events)).toEqual([4, 5, 5, 5, 5]);
    expect(r.windows.reduce((s, w) => s + w.events, 0)).toBe(r.events);
    for (let w = 1; w < r.windows.length; w++) expect(r.windows[w].from >= r.windows[w - 1].to).toBe(true);
    const weighted = (key: 'hitRate' | 'ndcg') => r.windows.reduce((s, w) => s + w[key] * w.events, 0) / r.events;
    expect(weighted('hitRate')).toBeCloseTo(r.hitRate, 12);
    expect(weighted('ndcg')).toBeCloseTo(r.ndcg, 12);
    // More windows than events: one window per event.
    expect(replay(rows, { ...common, mode: 'static', windows: 100 }).windows).toHaveLength(24);
  });
});

describe('replay: rules', () => {
  it.each([0, 1, -0.5, 1.5, NaN])('rejects trainFraction %s', (trainFraction) => {
    expect(() => replay(TOY, { mode: 'static', trainFraction })).toThrow(/trainFraction/);
  });

  it('rejects a fraction that leaves one side empty, an unknown mode and a bad k', () => {
    expect(() => replay(TOY, { mode: 'static', trainFraction: 0.01 })).toThrow(/no training events/);
    expect(() => replay(TOY, { mode: 'static', trainFraction: 0.99 })).toThrow(/no test events/);
    expect(() => replay(TOY, { mode: 'live' as never })).toThrow(InvalidInputError);
    expect(() => replay(TOY, { mode: 'static', k: 0 })).toThrow(/k must be a positive integer/);
  });
});

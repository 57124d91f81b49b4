import { describe, expect, it } from 'vitest';
import { mae, rankingMetrics, rmse } from '../../src/eval/metrics.ts';

describe('rmse and mae', () => {
  it('match hand-computed errors', () => {
    // errors 0.5, 0, -1 → squares 0.25, 0, 1
    expect(rmse([3, 4, 5], [2.5, 4, 6])).toBeCloseTo(Math.sqrt(1.25 / 3), 12);
    expect(mae([3, 4, 5], Float64Array.of(2.5, 4, 6))).toBeCloseTo(1.5 / 3, 12);
  });

  it('reject mismatched or empty inputs', () => {
    expect(() => rmse([1, 2], [1])).toThrow('rmse needs as many predictions as actual values, got 1 and 2');
    expect(() => mae([], [])).toThrow('mae needs at least one value');
  });
});

describe('rankingMetrics', () => {
  const recs = new Map([
    ['A', ['a', 'b', 'c']],
    ['B', ['d', 'e', 'f', 'h']], // h is relevant but at rank 4, beyond k
    ['E', ['a', 'g']], // no test items: counts for coverage and novelty only
  ]);
  const relevant = new Map([
    ['A', new Set(['a', 'c'])],
    ['B', new Set(['f', 'g', 'h', 'i'])],
    ['C', new Set(['a'])], // no recommendations: zero everywhere
    ['D', new Set<string>()], // nothing relevant: not averaged over
  ]);
  const popularity = new Map([['a', 10], ['b', 5], ['c', 5], ['d', 2], ['e', 1], ['z', 0]]);
  const m = rankingMetrics(recs, relevant, 3, { catalogSize: 10, popularity });

  it('averages over users with relevant items, counting users without recommendations as zero', () => {
    expect(m.users).toBe(3); // A, B, C
    // precision: A 2/3, B 1/3, C 0 → 1/3
    expect(m.precision).toBeCloseTo(1 / 3, 12);
    // recall: A 2/2, B 1/4, C 0 → (5/4)/3 = 5/12
    expect(m.recall).toBeCloseTo(5 / 12, 12);
    // f1 of the averages: 2·(1/3)(5/12) / (1/3 + 5/12) = (10/36)/(9/12) = 10/27
    expect(m.f1).toBeCloseTo(10 / 27, 12);
    // hits for A and B, none for C
    expect(m.hitRate).toBeCloseTo(2 / 3, 12);
  });

  it('computes NDCG with binary gains and an ideal over min(|rel|, k)', () => {
    // A: hits at ranks 1, 3 → DCG 1 + 1/log2(4); ideal over 2 → 1 + 1/log2(3)
    const ndcgA = (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3));
    // B: hit at rank 3 → 1/log2(4); ideal over min(4, 3) = 3 → 1 + 1/log2(3) + 1/log2(4)
    const ndcgB = 1 / Math.log2(4) / (1 + 1 / Math.log2(3) + 1 / Math.log2(4));
    expect(m.ndcg).toBeCloseTo((ndcgA + ndcgB + 0) / 3, 12);
  });

  it('computes MAP as Σ precision@i·rel_i / min(|rel|, k) (implicit, MS Recommenders map_at_k)', () => {
    // A: (P@1 + P@3)/min(2, 3) = (1 + 2/3)/2 = 5/6
    // B: P@3/min(4, 3) = (1/3)/3 = 1/9 (dividing by |rel| = 4 would give 1/12)
    expect(m.map).toBeCloseTo((5 / 6 + 1 / 9 + 0) / 3, 12); // = 17/54
  });

  it('measures coverage and novelty over the top k of every recommendation list', () => {
    // shown: a b c | d e f | a g → 7 distinct of 10 (h sits beyond k)
    expect(m.coverage).toBeCloseTo(0.7, 12);
    // ranks: a 1, b 2, c 2 (tie), d 4, e 5, unlisted or zero-count f, g → 1 + 5 counted items = 6
    // slots: (1 + 2 + 2) + (4 + 5 + 6) + (1 + 6) = 27 over 8 → 3.375
    expect(m.novelty).toBeCloseTo(27 / 8, 12);
  });

  it('divides precision by k even when a list is shorter than k', () => {
    const short = rankingMetrics(new Map([['u', ['x']]]), new Map([['u', new Set(['x'])]]), 4, { catalogSize: 5 });
    expect(short.precision).toBeCloseTo(1 / 4, 12);
    expect(short.recall).toBe(1);
    expect(short.ndcg).toBe(1); // one relevant item at rank 1 is ideal
    expect(short.novelty).toBeNaN(); // no popularity given
  });

  it('returns NaN averages when no user has a relevant item', () => {
    const none = rankingMetrics(new Map([['u', ['x']]]), new Map(), 3, { catalogSize: 5 });
    expect(none.users).toBe(0);
    expect(none.precision).toBeNaN();
    expect(none.coverage).toBeCloseTo(0.2, 12);
  });

  it('rejects repeated items, bad k and bad catalog sizes', () => {
    const relevantU = new Map([['u', new Set(['x'])]]);
    expect(() => rankingMetrics(new Map([['u', ['x', 'x']]]), relevantU, 3, { catalogSize: 5 })).toThrow(
      'recommendations for user "u" repeat an item',
    );
    expect(() => rankingMetrics(new Map(), relevantU, 0, { catalogSize: 5 })).toThrow('k must be a positive integer, got 0');
    expect(() => rankingMetrics(new Map(), relevantU, 3, { catalogSize: 0 })).toThrow(
      'catalogSize must be a positive integer, got 0',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.ts';
import type { RatingRow } from '../../src/eval/readers.ts';
import { leaveLastN, randomSplit, splitBy, stratifiedSplit, temporalSplit, type Split } from '../../src/eval/splits.ts';

/** Users u0..u39 with 1..12 rows each, timestamps drawn with many ties. */
function makeRows(): RatingRow[] {
  const rng = new Rng(7);
  const rows: RatingRow[] = [];
  for (let u = 0; u < 40; u++) {
    const count = 1 + (u % 12);
    for (let i = 0; i < count; i++) {
      rows.push({ user: `u${u}`, item: `i${rng.int(50)}`, value: 1 + rng.int(5), timestamp: rng.int(30) * 1000 });
    }
  }
  new Rng(8).shuffle(rows); // interleave users, as in real logs
  return rows;
}

const rows = makeRows();

/** Every input row lands on exactly one side, compared by object identity. */
function expectPartition(split: Split, input: RatingRow[]): void {
  const seen = new Set<RatingRow>();
  for (const row of [...split.train, ...split.test]) {
    expect(seen.has(row)).toBe(false);
    seen.add(row);
  }
  expect(seen.size).toBe(input.length);
  for (const row of input) expect(seen.has(row)).toBe(true);
}

function countByUser(list: RatingRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of list) counts.set(row.user, (counts.get(row.user) ?? 0) + 1);
  return counts;
}

describe('randomSplit', () => {
  it('holds out exactly round(n·f) rows and partitions the input', () => {
    const split = randomSplit(rows, 0.3, 1);
    expect(split.test.length).toBe(Math.round(rows.length * 0.3));
    expectPartition(split, rows);
  });

  it('is reproduced by its seed and changed by another seed', () => {
    expect(randomSplit(rows, 0.3, 1)).toEqual(randomSplit(rows, 0.3, 1));
    expect(randomSplit(rows, 0.3, 2).test).not.toEqual(randomSplit(rows, 0.3, 1).test);
  });

  it('rejects fractions outside [0, 1] and fractional seeds', () => {
    expect(() => randomSplit(rows, 1.5, 1)).toThrow('testFraction must be a number in [0, 1], got 1.5');
    expect(() => randomSplit(rows, 0.2, 1.5)).toThrow('seed must be an integer, got 1.5');
  });
});

describe('stratifiedSplit', () => {
  it('puts round(n_u·f) of each user in test and keeps every user with ≥ 2 rows on both sides', () => {
    const split = stratifiedSplit(rows, 0.25, 3);
    expectPartition(split, rows);
    const all = countByUser(rows);
    const train = countByUser(split.train);
    const test = countByUser(split.test);
    for (const [user, n] of all) {
      expect(test.get(user) ?? 0).toBe(n === 1 ? 0 : Math.round(n * 0.25));
      if (n >= 2) {
        expect(train.get(user)).toBeGreaterThan(0);
        expect(test.get(user)).toBeGreaterThan(0);
      }
    }
  });

  it('keeps a single-row user in train even when round(1·f) would be 1', () => {
    const single = [{ user: 'solo', item: 'a', value: 1, timestamp: 0 }];
    expect(stratifiedSplit(single, 0.6, 1)).toEqual({ train: single, test: [] });
  });

  it('is reproduced by its seed and changed by another seed', () => {
    expect(stratifiedSplit(rows, 0.25, 5)).toEqual(stratifiedSplit(rows, 0.25, 5));
    expect(stratifiedSplit(rows, 0.25, 6).test).not.toEqual(stratifiedSplit(rows, 0.25, 5).test);
  });
});

describe('temporalSplit', () => {
  it('puts the latest rows in test: every test timestamp ≥ every train timestamp', () => {
    const split = temporalSplit(rows, 0.2);
    expectPartition(split, rows);
    expect(split.test.length).toBe(Math.round(rows.length * 0.2));
    const latestTrain = Math.max(...split.train.map((row) => row.timestamp));
    const earliestTest = Math.min(...split.test.map((row) => row.timestamp));
    expect(earliestTest).toBeGreaterThanOrEqual(latestTrain);
  });

  it('breaks timestamp ties by input order', () => {
    const tied = ['a', 'b', 'c', 'd'].map((item) => ({ user: 'u', item, value: 1, timestamp: 5 }));
    expect(temporalSplit(tied, 0.5).test.map((row) => row.item)).toEqual(['c', 'd']);
  });
});

describe('leaveLastN', () => {
  it('moves each user’s n most recent rows to test', () => {
    const history = [
      { user: 'a', item: 'new', value: 1, timestamp: 30 },
      { user: 'a', item: 'old', value: 1, timestamp: 10 },
      { user: 'b', item: 'only', value: 1, timestamp: 99 },
      { user: 'a', item: 'mid', value: 1, timestamp: 20 },
      { user: 'a', item: 'newest', value: 1, timestamp: 40 },
    ];
    const split = leaveLastN(history, 2);
    expect(split.test.map((row) => row.item)).toEqual(['new', 'newest']);
    expect(split.train.map((row) => row.item)).toEqual(['old', 'only', 'mid']);
  });

  it('keeps users with ≤ n rows entirely in train and partitions the input', () => {
    const split = leaveLastN(rows, 3);
    expectPartition(split, rows);
    const train = countByUser(split.train);
    for (const [user, n] of countByUser(rows)) expect(train.get(user)).toBe(n <= 3 ? n : n - 3);
    for (const row of split.test) {
      const latestTrain = Math.max(...split.train.filter((r) => r.user === row.user).map((r) => r.timestamp));
      expect(row.timestamp).toBeGreaterThanOrEqual(latestTrain);
    }
  });

  it('rejects n that is not a positive integer', () => {
    expect(() => leaveLastN(rows, 0)).toThrow('n must be a positive integer, got 0');
  });
});

describe('splitBy', () => {
  it('dispatches to the named split', () => {
    expect(splitBy('random', rows, { testFraction: 0.2, seed: 4 })).toEqual(randomSplit(rows, 0.2, 4));
    expect(splitBy('stratified', rows, { testFraction: 0.2, seed: 4 })).toEqual(stratifiedSplit(rows, 0.2, 4));
    expect(splitBy('temporal', rows, { testFraction: 0.2 })).toEqual(temporalSplit(rows, 0.2));
    expect(splitBy('leave-last', rows, { n: 1 })).toEqual(leaveLastN(rows, 1));
  });

  it('names a missing option and lists the accepted splits', () => {
    expect(() => splitBy('random', rows, { testFraction: 0.2 })).toThrow('the random split needs the seed option');
    expect(() => splitBy('shuffle' as never, rows, {})).toThrow(
      'unknown split "shuffle"; accepted: random, stratified, temporal, leave-last',
    );
  });
});

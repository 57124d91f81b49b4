import { describe, expect, it } from 'vitest';
import { Popularity } from '../../src/engine/popularity.ts';

const DAY = 86_400_000;

describe('Popularity', () => {
  it('weighs an event one half-life newer twice as much', () => {
    const p = new Popularity(10 * DAY);
    p.add('old', 0);
    p.add('old', 0);
    p.add('new', 10 * DAY); // one event a half-life later counts 2, as much as the 2 old ones
    p.add('newer', 10 * DAY, 1.5); // 1.5 × 2 = 3
    expect(p.ranking()).toEqual(['newer', 'new', 'old']); // new and old tie at 2: by id
    expect(p.score('newer')).toBe(1);
    expect(p.score('old')).toBeCloseTo(2 / 3, 12);
    expect(p.score('new')).toBeCloseTo(2 / 3, 12);
  });

  it('keeps ranking correctly across more half-lives than a double can hold (7-day half-life over 30 years)', () => {
    const p = new Popularity(7 * DAY);
    const years = 30 * 365 * DAY; // 1,564 half-lives: 2^1564 would be Infinity
    p.add('a', 0);
    p.add('b', years - 7 * DAY);
    p.add('b', years - 7 * DAY);
    p.add('c', years);
    // After the rescale a is 2^-1563 ≈ 0, b counts 1 + 1 and c one half-life later 2: b and c tie, by id.
    expect(p.ranking()).toEqual(['b', 'c', 'a']);
    expect(p.score('c')).toBe(1);
    expect(p.score('b')).toBe(1);
    expect(p.score('a')).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(Number.isFinite(p.score(id))).toBe(true);
  });
});

describe('Popularity ranking under a stream of events', () => {
  it.each([false, true])('stays exactly the full sort by score (ties by id) as events arrive (deferred start: %s)', (deferred) => {
    const p = new Popularity(3 * DAY);
    // A deferred order (loading the log) is sorted once at the first read, then kept incrementally.
    if (deferred) p.deferOrder();
    const items = Array.from({ length: 40 }, (_, i) => `i${i}`);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const expected = new Map<string, number>();
    for (let e = 0; e < 2000; e++) {
      const itemId = items[Math.floor(next() ** 2 * items.length)];
      const t = e * 3600_000; // one event an hour, so older events fade
      const weight = 1 + Math.floor(next() * 3);
      p.add(itemId, t, weight);
      expected.set(itemId, (expected.get(itemId) ?? 0) + weight * 2 ** (t / (3 * DAY)));
      if (e % 97 === 96) {
        const sorted = [...expected.keys()].sort((a, b) => expected.get(b)! - expected.get(a)! || (a < b ? -1 : 1));
        expect(p.ranking()).toEqual(sorted);
      }
    }
  });
});

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

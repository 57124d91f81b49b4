import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/engine/config.ts';
import { decay, userSignals } from '../../src/engine/signals.ts';

const DAY = 86_400_000;
const config = resolveConfig();
const event = (itemId: string, type: 'view' | 'click' | 'purchase' | 'dislike' | 'rating', timestamp: number, value: number | null = null) =>
  ({ itemId, type, value, timestamp });

describe('signals', () => {
  it('halves a weight after one half-life and never decays with half-life 0', () => {
    expect(decay('view', 7 * DAY, config)).toBeCloseTo(0.5, 12);
    expect(decay('purchase', 360 * DAY, config)).toBeCloseTo(0.25, 12);
    const noDecay = resolveConfig({ signals: { view: { halfLifeDays: 0 } } });
    expect(decay('view', 1000 * DAY, noDecay)).toBe(1);
  });

  it('lets old interests fade to the floor but not vanish', () => {
    expect(decay('view', 70 * DAY, config)).toBe(0.1);
    expect(decay('view', 70 * DAY, resolveConfig({ decayFloor: 0 }))).toBeCloseTo(2 ** -10, 12);
  });

  it("measures age from the user's own latest event, not the wall clock", () => {
    // A 1996 view and a 1996 + 7 days view: the older counts half, whatever today's date is.
    const t = Date.UTC(1996, 0, 1);
    const signals = userSignals([event('a', 'view', t), event('b', 'view', t + 7 * DAY)], config, false);
    // weight · log2(1 + decay): b = 1·log2(2) = 1; a = log2(1.5).
    expect(signals).toEqual([
      { itemId: 'a', value: Math.log2(1.5) },
      { itemId: 'b', value: 1 },
    ]);
  });

  it('adds repeats of a type with diminishing returns and sums types', () => {
    const t = 1e12;
    const views = Array.from({ length: 10 }, (_, i) => event('a', 'view', t + i));
    const [a] = userSignals(views, config, false);
    // Ten fresh views ≈ log2(11) ≈ 3.46 views, not 10.
    expect(a.value).toBeCloseTo(Math.log2(1 + 10), 3);
    const [b] = userSignals([event('b', 'view', t), event('b', 'purchase', t)], config, false);
    expect(b.value).toBeCloseTo(1 + 8, 12);
  });

  it('lets a dislike pull an item negative and a rating count by its stars, latest only', () => {
    const t = 1e12;
    const signals = userSignals(
      [event('a', 'view', t), event('a', 'dislike', t), event('r', 'rating', t, 2), event('r', 'rating', t + 1, 4.5)],
      config, false,
    );
    expect(signals.find((s) => s.itemId === 'a')!.value).toBeCloseTo(1 - 4, 6);
    expect(signals.find((s) => s.itemId === 'r')!.value).toBeCloseTo(4.5 * 2 ** (-1 / (365 * DAY)), 9);
  });

  it('gives explicit models the latest rating per item only', () => {
    const t = 1e12;
    const signals = userSignals([event('r', 'rating', t + 5, 3), event('r', 'rating', t, 5), event('c', 'click', t)], config, true);
    expect(signals).toEqual([{ itemId: 'r', value: 3 }]);
  });
});

import { describe, expect, it } from 'vitest';
import { blend, modelShare } from '../../src/engine/blend.ts';
import { Catalog } from '../../src/engine/catalog.ts';

const at = Date.UTC(2026, 0, 1);
const catalog = new Catalog(
  [
    ['p', ['horror']],
    ['x', ['horror', 'comedy']],
    ['y', ['drama']],
  ].map(([itemId, categories]) => ({ itemId: itemId as string, categories: categories as string[], available: true, title: null, metadata: {}, createdAt: at, updatedAt: at })),
);

describe('the profile-aware blend', () => {
  it("gives the model a share rising linearly with the user's distinct items, 1 from historyItems on or when off", () => {
    expect(modelShare(0, { historyItems: 20 })).toBe(0);
    expect(modelShare(5, { historyItems: 20 })).toBe(0.25);
    expect(modelShare(20, { historyItems: 20 })).toBe(1);
    expect(modelShare(45, { historyItems: 20 })).toBe(1);
    expect(modelShare(3, false)).toBe(1);
  });

  it("multiplies each candidate's rank by the user's affinity for its categories (hand-computed)", () => {
    // Share 1/2. Ranks: model x → 1, y → 1/2; popular p → 1/2·1, x → 1/2·1/2 (x keeps its model rank 1).
    // Interests horror 3/4 (leading), comedy 1/4. Affinity: x (horror + comedy = 1) → 1, p → 1, y (drama) → 0.
    //   x: 1 · (1/2 + 1/2·1) = 1; categories' part 1/2, split 3:1 → horror 3/8, comedy 1/8
    //   p: 1/2 · 1 = 1/2; categories' part 1/2, all horror
    //   y: 1/2 · (1/2 + 0) = 1/4; no category reason
    const out = blend(
      {
        model: [{ itemId: 'x', score: 9 }, { itemId: 'y', score: 4 }],
        popular: [{ itemId: 'p', score: 1 }, { itemId: 'x', score: 0.5 }],
        interests: new Map([['horror', 0.75], ['comedy', 0.25]]),
        share: 0.5,
      },
      catalog,
    );
    expect(out).toEqual([
      { itemId: 'x', score: 1, categories: [{ category: 'horror', weight: 0.375 }, { category: 'comedy', weight: 0.125 }] },
      { itemId: 'p', score: 0.5, categories: [{ category: 'horror', weight: 0.5 }] },
      { itemId: 'y', score: 0.25, categories: [] },
    ]);
  });

  it('at share 1 keeps the model order and at share 0 the popular order within interests', () => {
    const input = {
      model: [{ itemId: 'y', score: 2 }, { itemId: 'x', score: 1 }],
      popular: [{ itemId: 'p', score: 1 }, { itemId: 'x', score: 0.5 }],
      interests: new Map([['horror', 1]]),
    };
    expect(blend({ ...input, share: 1 }, catalog).slice(0, 2).map((b) => b.itemId)).toEqual(['y', 'x']);
    expect(blend({ ...input, share: 0 }, catalog).slice(0, 2).map((b) => b.itemId)).toEqual(['p', 'x']);
  });
});

import { describe, expect, it } from 'vitest';
import { labelSegments } from '../../src/engine/segments.ts';
import { normalizeRows } from '../../src/model/factor-model.ts';

const seg = (weights: Record<string, number>) => new Map(Object.entries(weights));

describe('labelSegments', () => {
  it('names the categories over-represented in a segment, not the ones common everywhere', () => {
    // Drama and Comedy have the same share in both segments (10/24, 8/24) as overall, so they score 0;
    // Horror and Animation are twice as common in their segment as overall (0.25 vs 0.125).
    const labels = labelSegments([
      seg({ Drama: 10, Comedy: 8, Horror: 6 }),
      seg({ Drama: 10, Comedy: 8, Animation: 6 }),
    ]);
    expect(labels).toEqual(['Horror & Drama', 'Animation & Drama']);
  });

  it('lengthens the lighter segment\'s label when two would coincide', () => {
    // Segments 0 and 1 both rank P, Q first (P/Q: 8/18 and 8/17 vs 16/65 overall); segment 1 weighs
    // 17 < 18, so it takes its next distinctive category, S (1/17 vs 1/65).
    const labels = labelSegments([seg({ P: 8, Q: 8, R: 2 }), seg({ P: 8, Q: 8, S: 1 }), seg({ T: 30 })]);
    expect(labels).toEqual(['P & Q', 'P & Q & S', 'T']);
  });

  it('falls back to the segment id when no category tells two segments apart', () => {
    expect(labelSegments([seg({ A: 5, B: 5 }), seg({ A: 5, B: 5 })])).toEqual(['A & B', 'A & B (1)']);
  });

  it('labels a segment without categorised items "uncategorised"', () => {
    expect(labelSegments([seg({ A: 1 }), seg({})])).toEqual(['A', 'uncategorised']);
  });
});

describe('normalizeRows (segments cluster taste directions)', () => {
  it('scales each row to unit length, so a heavy and a light user with the same taste coincide', () => {
    const rows = Float32Array.from([3, 4, 0.3, 0.4, 0, 0]);
    normalizeRows(rows, 2);
    expect(Array.from(rows.subarray(0, 2))).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(rows.subarray(2, 4))).toEqual(Array.from(rows.subarray(0, 2)));
    expect(Array.from(rows.subarray(4))).toEqual([0, 0]);
  });
});

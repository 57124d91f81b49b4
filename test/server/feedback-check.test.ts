import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainFeedback } from '../../src/server/feedback-check.ts';
import { feedbackEvent } from '../../src/server/schemas.ts';
import { FEEDBACK_TYPES } from '../../src/store/types.ts';

const NOW = Date.UTC(2026, 0, 1);
const schema = feedbackEvent(NOW);

/** Rows near every rule's edge: ids of odd lengths and characters, all types and some not, values and times around their limits. */
const row = fc.record(
  {
    userId: fc.oneof(fc.string({ minLength: 0, maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 4 }), fc.constant('x'.repeat(256)), fc.constant('x'.repeat(257)), fc.integer()),
    itemId: fc.oneof(fc.constantFrom('i1', 'item 2', 'é', '\u2028', '\ud800', ''), fc.string({ maxLength: 3 })),
    type: fc.oneof(fc.constantFrom(...FEEDBACK_TYPES), fc.constantFrom('shrug', 'Rating', '')),
    value: fc.oneof(fc.constant(null), fc.constantFrom(0, 0.49, 0.5, 3, 5, 5.01, -1, Infinity, NaN), fc.double(), fc.constant('4')),
    timestamp: fc.oneof(
      fc.constantFrom(0, -1, NOW, NOW + 86_400_000, NOW + 86_400_001, 1.5, 2 ** 53, '2024-01-01T00:00:00Z', '2024-01-01'),
      fc.integer({ min: -10, max: NOW * 2 }),
    ),
  },
  { requiredKeys: [] },
);

describe('plainFeedback: the hand-checked common case of the feedback schema', () => {
  it('accepts only rows the schema accepts, with the very same result', () => {
    fc.assert(
      fc.property(row, (r) => {
        const plain = plainFeedback(r, NOW);
        if (plain === undefined) return;
        const parsed = schema.safeParse(r);
        expect(parsed.success).toBe(true);
        expect(plain).toEqual(parsed.data);
      }),
      { numRuns: 20_000 },
    );
  });

  it('decides the rows an import is made of without the schema', () => {
    expect(plainFeedback({ userId: 'u1', itemId: 'i1', type: 'view', timestamp: NOW - 5 }, NOW)).toEqual({ userId: 'u1', itemId: 'i1', type: 'view', value: null, timestamp: NOW - 5 });
    expect(plainFeedback({ userId: 'u1', itemId: 'i1', type: 'rating', value: 4.5 }, NOW)).toEqual({ userId: 'u1', itemId: 'i1', type: 'rating', value: 4.5, timestamp: NOW });
    // Left to the schema: an ISO time, a non-ASCII id, a rating out of range.
    expect(plainFeedback({ userId: 'u1', itemId: 'i1', type: 'view', timestamp: '2024-01-01T00:00:00Z' }, NOW)).toBeUndefined();
    expect(plainFeedback({ userId: 'ü', itemId: 'i1', type: 'view' }, NOW)).toBeUndefined();
    expect(plainFeedback({ userId: 'u1', itemId: 'i1', type: 'rating', value: 6 }, NOW)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { Core } from '../../src/wasm/core.ts';
import { scoreItems, selectTop, vecDot } from '../../src/wasm/topk.ts';
import { Rng } from '../../src/data/rng.ts';
import { dotRef, topNRef } from '../reference/vec.ts';

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

describe('vector dot (SIMD with scalar tail)', () => {
  it.each([1, 3, 4, 5, 7, 64, 65])('matches the reference at k=%i', (k) => {
    const core = new Core();
    const rng = new Rng(k);
    const a = randomArray(rng, k);
    const b = randomArray(rng, k);
    const got = vecDot(core, core.putF32(a), core.putF32(b), k);
    expect(got).toBeCloseTo(dotRef(a, b), 4);
  });
});

describe('scoreItems + selectTop', () => {
  it.each([1, 3, 4, 5, 64])('scores every item and returns the same top-N as a full sort (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(100 + k);
    const nItems = 500;
    const factors = randomArray(rng, nItems * k);
    const bias = randomArray(rng, nItems);
    const user = randomArray(rng, k);
    const scoresPtr = core.allocF32(nItems);
    scoreItems(core, core.putF32(factors), core.putF32(bias), nItems, k, core.putF32(user), scoresPtr);
    const scores = Float32Array.from(core.f32(scoresPtr, nItems));
    for (const i of [0, 17, nItems - 1]) {
      expect(scores[i]).toBeCloseTo(dotRef(factors, user, i * k, 0, k) + bias[i], 4);
    }
    const excluded = [3, 9, 10, 250, 499];
    const mask = new Uint8Array(nItems).map((_, i) => (i % 7 === 0 ? 0 : 1));
    const maskPtr = core.alloc(nItems);
    core.u8(maskPtr, nItems).set(mask);
    const n = 20;
    const outIdx = core.allocI32(n);
    const outScores = core.allocF32(n);
    const count = selectTop(core, scoresPtr, nItems, core.putI32(excluded), excluded.length, maskPtr, n, outIdx, outScores);
    const ref = topNRef(scores, n, new Set(excluded), mask);
    expect(count).toBe(n);
    expect(Array.from(core.i32(outIdx, count))).toEqual(ref.idx);
    expect(Array.from(core.f32(outScores, count))).toEqual(ref.score);
  });

  it('returns fewer than n when fewer candidates exist, and breaks ties by index', () => {
    const core = new Core();
    const scores = core.putF32([1, 2, 2, NaN, 0.5]);
    const outIdx = core.allocI32(10);
    const outScores = core.allocF32(10);
    const count = selectTop(core, scores, 5, core.putI32([4]), 1, 0, 10, outIdx, outScores);
    expect(count).toBe(3);
    expect(Array.from(core.i32(outIdx, count))).toEqual([1, 2, 0]);
  });
});

describe('Core memory', () => {
  it('grows memory for large allocations and keeps earlier data intact', () => {
    const core = new Core();
    const first = core.putF32([1, 2, 3]);
    const big = core.allocF32(4_000_000);
    core.f32(big, 4_000_000)[3_999_999] = 7;
    expect(Array.from(core.f32(first, 3))).toEqual([1, 2, 3]);
    expect(core.f32(big, 4_000_000)[3_999_999]).toBe(7);
    expect(big % 16).toBe(0);
  });
});

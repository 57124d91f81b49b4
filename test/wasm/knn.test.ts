import { describe, expect, it } from 'vitest';
import { Core } from '../../src/wasm/core.ts';
import { accumLength, cosineNeighbors, cosineNeighborsOf, itemNorms, knnScores, touchedLength } from '../../src/wasm/knn.ts';
import { Rng } from '../../src/data/rng.ts';
import { cosineNeighborsRef, knnScoresRef, toCsr, type Triplet } from '../reference/knn.ts';

/** Random sparse ratings; items in `empty` get none. Continuous values keep exact ties out. */
function randomTriplets(rng: Rng, nUsers: number, nItems: number, density: number, empty: number[] = []): Triplet[] {
  const out: Triplet[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (empty.includes(i) || rng.next() >= density) continue;
      out.push([u, i, 0.5 + 4 * rng.next()]);
    }
  }
  return out;
}

/** Both CSRs, norms and scratch laid out in core memory, plus a runner for item ranges. */
function setup(core: Core, triplets: Triplet[], nUsers: number, nItems: number, K: number) {
  const byItem = toCsr(triplets, nItems, 1);
  const byUser = toCsr(triplets, nUsers, 0);
  const itemIndptr = core.putI32(byItem.indptr);
  const itemUsers = core.putI32(byItem.indices);
  const itemValues = core.putF32(byItem.values);
  const userIndptr = core.putI32(byUser.indptr);
  const userItems = core.putI32(byUser.indices);
  const userValues = core.putF32(byUser.values);
  const norms = core.allocF32(nItems);
  itemNorms(core, itemIndptr, itemValues, nItems, norms);
  const accum = core.allocF32(accumLength(nItems));
  const touched = core.allocI32(touchedLength(nItems));
  const outNeighbors = core.allocI32(nItems * K);
  const outSims = core.allocF32(nItems * K);
  const run = (shrink: number, start = 0, end = nItems) =>
    cosineNeighbors(core, itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues,
      nItems, K, shrink, start, end, outNeighbors, outSims, accum, touched);
  const runOf = (shrink: number, items: number[]) =>
    cosineNeighborsOf(core, itemIndptr, itemUsers, itemValues, norms, userIndptr, userItems, userValues,
      nItems, K, shrink, core.putI32(items), items.length, outNeighbors, outSims, accum, touched);
  const read = () => ({ idx: Array.from(core.i32(outNeighbors, nItems * K)), sim: Array.from(core.f32(outSims, nItems * K)) });
  return { run, runOf, read, outNeighbors, outSims, accum, byUser };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol) expect.fail(`element ${i}: got ${got[i]}, want ${want[i]} (±${tol})`);
  }
}

describe('itemNorms', () => {
  it('is the L2 norm of each item column (0 for an empty item)', () => {
    const core = new Core();
    const triplets: Triplet[] = [[0, 0, 3], [1, 0, 4], [2, 2, 1], [0, 2, 2], [1, 2, 2], [3, 2, 4], [4, 2, 1], [5, 2, 1]];
    const byItem = toCsr(triplets, 3, 1);
    const norms = core.allocF32(3);
    itemNorms(core, core.putI32(byItem.indptr), core.putF32(byItem.values), 3, norms);
    expectClose(core.f32(norms, 3), [5, 0, Math.sqrt(27)], 1e-6);
  });
});

describe('cosineNeighbors', () => {
  const nUsers = 70, nItems = 50;
  const empty = [7, 49];
  const triplets = randomTriplets(new Rng(31), nUsers, nItems, 0.12, empty);

  for (const K of [1, 5, 12, 60]) {
    for (const shrink of [0, 10]) {
      it(`equals brute-force dense cosine (K=${K}, shrink=${shrink})`, () => {
        const core = new Core();
        const s = setup(core, triplets, nUsers, nItems, K);
        s.run(shrink);
        const got = s.read();
        const ref = cosineNeighborsRef(triplets, nUsers, nItems, K, shrink);
        expect(got.idx).toEqual(Array.from(ref.idx));
        expectClose(got.sim, ref.sim, 1e-5);
        // Padding appears only when an item has fewer than K co-rated items: check it is real.
        if (K === 60) expect(got.idx.filter((j) => j === -1).length).toBeGreaterThan(0);
      });
    }
  }

  it('pads items with no ratings with −1 / 0', () => {
    const core = new Core();
    const K = 6;
    const s = setup(core, triplets, nUsers, nItems, K);
    core.i32(s.outNeighbors, nItems * K).fill(123);
    core.f32(s.outSims, nItems * K).fill(9);
    s.run(0);
    const got = s.read();
    for (const i of empty) {
      expect(got.idx.slice(i * K, (i + 1) * K)).toEqual(Array(K).fill(-1));
      expect(got.sim.slice(i * K, (i + 1) * K)).toEqual(Array(K).fill(0));
    }
    // …and never appear as anyone's neighbour.
    expect(got.idx.some((j) => empty.includes(j))).toBe(false);
  });

  it('computes [itemStart, itemEnd) ranges equal to the whole-range call, leaving other rows untouched', () => {
    const K = 8, shrink = 5;
    const whole = (() => {
      const core = new Core();
      const s = setup(core, triplets, nUsers, nItems, K);
      s.run(shrink);
      return s.read();
    })();

    const core = new Core();
    const s = setup(core, triplets, nUsers, nItems, K);
    core.i32(s.outNeighbors, nItems * K).fill(-77);
    core.f32(s.outSims, nItems * K).fill(42);
    s.run(shrink, 13, 29);
    const part = s.read();
    for (let i = 0; i < nItems; i++) {
      const row = (a: number[]) => a.slice(i * K, (i + 1) * K);
      if (i >= 13 && i < 29) {
        expect(row(part.idx)).toEqual(row(whole.idx));
        expect(row(part.sim)).toEqual(row(whole.sim));
      } else {
        expect(row(part.idx)).toEqual(Array(K).fill(-77));
        expect(row(part.sim)).toEqual(Array(K).fill(42));
      }
    }
    // Filling the rest in chunks (the scratch reused, as one worker thread would) completes it.
    s.run(shrink, 0, 13);
    s.run(shrink, 29, 40);
    s.run(shrink, 40, nItems);
    expect(s.read()).toEqual(whole);
  });

  it('cosineNeighborsOf writes exactly the listed rows, as the range call would, in any order', () => {
    const K = 7, shrink = 3;
    const whole = (() => {
      const core = new Core();
      const s = setup(core, triplets, nUsers, nItems, K);
      s.run(shrink);
      return s.read();
    })();
    const core = new Core();
    const s = setup(core, triplets, nUsers, nItems, K);
    core.i32(s.outNeighbors, nItems * K).fill(-77);
    core.f32(s.outSims, nItems * K).fill(42);
    core.f32(s.accum, accumLength(nItems)).fill(9); // dirty scratch is zeroed by the call
    const listed = [31, 2, 49, 7, 18, 0];
    s.runOf(shrink, listed);
    const got = s.read();
    for (let i = 0; i < nItems; i++) {
      const row = (a: number[]) => a.slice(i * K, (i + 1) * K);
      if (listed.includes(i)) {
        expect(row(got.idx)).toEqual(row(whole.idx));
        expect(row(got.sim)).toEqual(row(whole.sim));
      } else {
        expect(row(got.idx)).toEqual(Array(K).fill(-77));
      }
    }
  });

  it('tolerates dirty scratch memory', () => {
    const K = 5;
    const core = new Core();
    const s = setup(core, triplets, nUsers, nItems, K);
    core.f32(s.accum, accumLength(nItems)).fill(3.5);
    s.run(0);
    const ref = cosineNeighborsRef(triplets, nUsers, nItems, K, 0);
    expect(s.read().idx).toEqual(Array.from(ref.idx));
  });

  it('breaks exact ties by lower index and excludes the item itself', () => {
    // Items 1, 2 and 3 are identical columns, so sim(0,1) = sim(0,2) = sim(0,3) bit for bit.
    const triplets: Triplet[] = [];
    for (const [u, v] of [[0, 1.5], [1, 2], [2, 0.25]] as const) {
      triplets.push([u, 0, v + 1], [u, 3, v], [u, 2, v], [u, 1, v]);
    }
    triplets.push([3, 4, 1], [3, 0, 2]);
    const core = new Core();
    const K = 3;
    const s = setup(core, triplets, 4, 5, K);
    s.run(0);
    const got = s.read();
    expect(got.idx.slice(0, 3)).toEqual([1, 2, 3]);
    expect(got.sim[0]).toBe(got.sim[1]);
    expect(got.idx.slice(3, 6)).toEqual([2, 3, 0]); // item 1: its twins (sim 1) first, never itself
    expectClose(got.sim.slice(3, 5), [1, 1], 1e-6);
    expect(got.idx.slice(12, 15)).toEqual([0, -1, -1]); // item 4 shares only user 3 with item 0
    expectClose(got.sim.slice(12, 15), [2 / Math.sqrt(2.5 ** 2 + 3 ** 2 + 1.25 ** 2 + 2 ** 2), 0, 0], 1e-6);
  });

  it('applies the co/(co+shrink) shrinkage', () => {
    // Item 0 = users {0,1,2}, item 1 = {0,1,3,4,5}, item 2 = {2}, all values 1: item 1 shares 2
    // users (cosine 2/√15), item 2 shares 1 (cosine 1/√3). Plain cosine prefers 2, shrink 5 prefers 1.
    const triplets: Triplet[] = [[0, 0, 1], [1, 0, 1], [2, 0, 1], [2, 2, 1]];
    for (const u of [0, 1, 3, 4, 5]) triplets.push([u, 1, 1]);
    const core = new Core();
    const s = setup(core, triplets, 6, 3, 2);
    s.run(0);
    expect(s.read().idx.slice(0, 2)).toEqual([2, 1]);
    expectClose(s.read().sim.slice(0, 2), [1 / Math.sqrt(3), 2 / Math.sqrt(15)], 1e-6);
    s.run(5);
    expect(s.read().idx.slice(0, 2)).toEqual([1, 2]);
    expectClose(s.read().sim.slice(0, 2), [(2 / Math.sqrt(15)) * (2 / 7), (1 / Math.sqrt(3)) * (1 / 6)], 1e-6);
  });
});

describe('knnScores', () => {
  it.each([[1, 0], [5, 0], [12, 8]])('equals the reference (K=%i, shrink=%i) and zeroes outScores first', (K, shrink) => {
    const nUsers = 40, nItems = 35;
    const triplets = randomTriplets(new Rng(77 + K), nUsers, nItems, 0.15, [3]);
    const core = new Core();
    const s = setup(core, triplets, nUsers, nItems, K);
    s.run(shrink);
    const { idx, sim } = s.read();
    const scores = core.allocF32(nItems);
    for (const u of [0, 5, 17, 39]) {
      const a = s.byUser.indptr[u], b = s.byUser.indptr[u + 1];
      const items = s.byUser.indices.subarray(a, b);
      const values = s.byUser.values.subarray(a, b);
      core.f32(scores, nItems).fill(1234);
      const mark = core.mark();
      knnScores(core, s.outNeighbors, s.outSims, K, nItems, core.putI32(items), core.putF32(values), items.length, scores);
      core.release(mark);
      const ref = knnScoresRef(idx, sim, K, nItems, items, values);
      expectClose(core.f32(scores, nItems), ref, 1e-4);
      if (items.length > 0) expect(ref.some((x) => x !== 0)).toBe(true);
    }
    // A user with no items scores everything 0.
    core.f32(scores, nItems).fill(1234);
    knnScores(core, s.outNeighbors, s.outSims, K, nItems, 0, 0, 0, scores);
    expect(Array.from(core.f32(scores, nItems))).toEqual(Array(nItems).fill(0));
  });
});

import { describe, expect, it } from 'vitest';
import { Core } from '../../src/wasm/core.ts';
import { allocRng, sgdEpoch, shuffle } from '../../src/wasm/sgd.ts';
import { Rng } from '../../src/data/rng.ts';
import { Pcg32Ref, sgdEpochRef, shuffleRef, type SgdModel } from '../reference/sgd.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Problem {
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  mean: number;
  nUsers: number;
  nItems: number;
}

function randomRatings(rng: Rng, nUsers: number, nItems: number, n: number): Problem {
  const users = Int32Array.from({ length: n }, () => rng.int(nUsers));
  const items = Int32Array.from({ length: n }, () => rng.int(nItems));
  const values = Float32Array.from({ length: n }, () => 1 + rng.int(5));
  const mean = values.reduce((s, v) => s + v, 0) / n;
  return { users, items, values, mean, nUsers, nItems };
}

function randomModel(rng: Rng, nUsers: number, nItems: number, k: number, scale: number): SgdModel {
  const r = (n: number) => Float64Array.from({ length: n }, () => Math.fround(scale * rng.normal()));
  return { userFactors: r(nUsers * k), itemFactors: r(nItems * k), userBias: r(nUsers), itemBias: r(nItems) };
}

/** The model's four arrays copied into core memory. */
function putModel(core: Core, m: SgdModel) {
  return {
    userFactors: core.putF32(m.userFactors),
    itemFactors: core.putF32(m.itemFactors),
    userBias: core.putF32(m.userBias),
    itemBias: core.putF32(m.itemBias),
  };
}

describe('sgdEpoch', () => {
  it.each([1, 3, 4, 5, 64])('equals the step-by-step reference over a fixed order (k=%i)', (k) => {
    const core = new Core();
    const rng = new Rng(7 + k);
    const prob = randomRatings(rng, 20, 25, 300);
    const n = prob.values.length;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    rng.shuffle(order);
    const ref = randomModel(rng, prob.nUsers, prob.nItems, k, 0.1);
    const ptr = putModel(core, ref);
    const params = { mean: prob.mean, k, lr: 0.01, regFactor: 0.02, regBias: 0.01 };

    const sse = sgdEpoch(
      core, core.putI32(prob.users), core.putI32(prob.items), core.putF32(prob.values), core.putI32(order), 0, n,
      params.mean, ptr.userFactors, ptr.itemFactors, ptr.userBias, ptr.itemBias, k, params.lr, params.regFactor, params.regBias,
    );
    const sseRef = sgdEpochRef(prob.users, prob.items, prob.values, order, 0, n, ref, params);

    expect(Math.abs(sse - sseRef) / sseRef).toBeLessThan(1e-5);
    expect(maxAbsDiff(core.f32(ptr.userFactors, prob.nUsers * k), ref.userFactors)).toBeLessThan(1e-4);
    expect(maxAbsDiff(core.f32(ptr.itemFactors, prob.nItems * k), ref.itemFactors)).toBeLessThan(1e-4);
    expect(maxAbsDiff(core.f32(ptr.userBias, prob.nUsers), ref.userBias)).toBeLessThan(1e-4);
    expect(maxAbsDiff(core.f32(ptr.itemBias, prob.nItems), ref.itemBias)).toBeLessThan(1e-4);
  });

  it('uses the old p_u for the q_i update and only touches order[start..end)', () => {
    const core = new Core();
    const k = 3;
    // One rating: u=1, i=0, r=4; mean 3, zero biases.
    const users = core.putI32([1]);
    const items = core.putI32([0]);
    const values = core.putF32([4]);
    const order = core.putI32([0]);
    const P = core.putF32([9, 9, 9, 0.5, -0.25, 1]);
    const Q = core.putF32([0.2, 0.4, -0.6]);
    const bu = core.putF32([0, 0]);
    const bi = core.putF32([0]);
    const lr = 0.1, regF = 0.5, regB = 0.2;
    const e = 4 - (3 + (0.5 * 0.2 - 0.25 * 0.4 - 1 * 0.6));
    const sse = sgdEpoch(core, users, items, values, order, 0, 1, 3, P, Q, bu, bi, k, lr, regF, regB);
    expect(sse).toBeCloseTo(e * e, 5);
    const p0 = [0.5, -0.25, 1], q0 = [0.2, 0.4, -0.6];
    const p1 = p0.map((p, f) => p + lr * (e * q0[f] - regF * p));
    const q1 = q0.map((q, f) => q + lr * (e * p0[f] - regF * q));
    expect(maxAbsDiff(core.f32(P, 6), [9, 9, 9, ...p1])).toBeLessThan(1e-6);
    expect(maxAbsDiff(core.f32(Q, 3), q1)).toBeLessThan(1e-6);
    expect(maxAbsDiff(core.f32(bu, 2), [0, lr * e])).toBeLessThan(1e-6);
    expect(maxAbsDiff(core.f32(bi, 1), [lr * e])).toBeLessThan(1e-6);
    // An empty range changes nothing and reports no error.
    const before = Array.from(core.f32(P, 6)).concat(Array.from(core.f32(Q, 3)));
    expect(sgdEpoch(core, users, items, values, order, 1, 1, 3, P, Q, bu, bi, k, lr, regF, regB)).toBe(0);
    expect(Array.from(core.f32(P, 6)).concat(Array.from(core.f32(Q, 3)))).toEqual(before);
  });

  it('an epoch split into [start, end) chunks equals one whole call bit for bit', () => {
    const k = 5;
    const rng = new Rng(99);
    const prob = randomRatings(rng, 15, 18, 200);
    const n = prob.values.length;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    rng.shuffle(order);
    const model = randomModel(rng, prob.nUsers, prob.nItems, k, 0.1);
    const run = (cuts: number[]) => {
      const core = new Core();
      const ptr = putModel(core, model);
      const u = core.putI32(prob.users), it = core.putI32(prob.items), v = core.putF32(prob.values), o = core.putI32(order);
      let sse = 0;
      for (let c = 0; c + 1 < cuts.length; c++) {
        sse += sgdEpoch(core, u, it, v, o, cuts[c], cuts[c + 1], prob.mean, ptr.userFactors, ptr.itemFactors,
          ptr.userBias, ptr.itemBias, k, 0.02, 0.02, 0.02);
      }
      return { sse, P: Array.from(core.f32(ptr.userFactors, prob.nUsers * k)), Q: Array.from(core.f32(ptr.itemFactors, prob.nItems * k)) };
    };
    const whole = run([0, n]);
    const chunked = run([0, 37, 38, 150, n]);
    expect(chunked.P).toEqual(whole.P);
    expect(chunked.Q).toEqual(whole.Q);
    expect(chunked.sse).toBeCloseTo(whole.sse, 9);
  });

  it('fits a synthetic rank-2 matrix with biases to training RMSE < 0.05', () => {
    const core = new Core();
    const rng = new Rng(2024);
    const nUsers = 30, nItems = 40, rank = 2, k = 4;
    const U = Array.from({ length: nUsers * rank }, () => rng.normal());
    const V = Array.from({ length: nItems * rank }, () => rng.normal());
    const bU = Array.from({ length: nUsers }, () => 0.5 * rng.normal());
    const bI = Array.from({ length: nItems }, () => 0.5 * rng.normal());
    const users: number[] = [], items: number[] = [], values: number[] = [];
    for (let u = 0; u < nUsers; u++) {
      for (let i = 0; i < nItems; i++) {
        if (rng.next() >= 0.6) continue;
        users.push(u);
        items.push(i);
        values.push(3 + bU[u] + bI[i] + U[u * rank] * V[i * rank] + U[u * rank + 1] * V[i * rank + 1]);
      }
    }
    const n = values.length;
    const mean = values.reduce((s, v) => s + v, 0) / n;
    const init = (len: number) => Float32Array.from({ length: len }, () => 0.1 * rng.normal());
    const P = core.putF32(init(nUsers * k)), Q = core.putF32(init(nItems * k));
    const bu = core.allocF32(nUsers), bi = core.allocF32(nItems);
    const u = core.putI32(users), it = core.putI32(items), v = core.putF32(values);
    const order = core.putI32(Array.from({ length: n }, (_, t) => t));
    const state = allocRng(core, 5);

    let rmse = Infinity;
    const epochs = 600;
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(core, order, n, state);
      const lr = 0.03 * Math.pow(0.1, epoch / epochs); // decays 0.03 → 0.003
      rmse = Math.sqrt(sgdEpoch(core, u, it, v, order, 0, n, mean, P, Q, bu, bi, k, lr, 0.0005, 0.0005) / n);
    }
    expect(rmse).toBeLessThan(0.05);
  });
});

describe('shuffle (PCG32 state in host memory)', () => {
  const run = (core: Core, seed: number, n: number, times = 1) => {
    const order = core.putI32(Array.from({ length: n }, (_, i) => i));
    const state = allocRng(core, seed);
    for (let t = 0; t < times; t++) shuffle(core, order, n, state);
    return Array.from(core.i32(order, n));
  };

  it('is a permutation, deterministic per seed, different across seeds', () => {
    const core = new Core();
    const n = 1000;
    const a = run(core, 1, n);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: n }, (_, i) => i));
    expect(run(core, 1, n)).toEqual(a);
    expect(run(new Core(), 1, n)).toEqual(a);
    expect(run(core, 2, n)).not.toEqual(a);
    // The state advances: a second shuffle from the same state is a different permutation.
    expect(run(core, 1, n, 2)).not.toEqual(a);
  });

  it('draws exactly as the PCG32 + Lemire reference does', () => {
    const core = new Core();
    for (const seed of [0, 42, 0xdeadbeef]) {
      const expected = Int32Array.from({ length: 257 }, (_, i) => i);
      shuffleRef(expected, new Pcg32Ref(seed));
      expect(run(core, seed, 257)).toEqual(Array.from(expected));
    }
  });

  it('handles n = 0 and n = 1', () => {
    const core = new Core();
    expect(run(core, 3, 1)).toEqual([0]);
    expect(run(core, 3, 0)).toEqual([]);
  });

  it('puts every element in every position about equally often', () => {
    const core = new Core();
    const n = 5, trials = 20000;
    const counts = new Int32Array(n * n);
    const order = core.allocI32(n);
    const state = allocRng(core, 11);
    for (let t = 0; t < trials; t++) {
      core.i32(order, n).set([0, 1, 2, 3, 4]);
      shuffle(core, order, n, state);
      core.i32(order, n).forEach((v, pos) => counts[v * n + pos]++);
    }
    for (const c of counts) expect(Math.abs(c - trials / n)).toBeLessThan(250); // ~6.25σ
  });
});

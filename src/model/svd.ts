import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { allocRng, RNG_STATE_BYTES, rngSeed } from '../wasm/sgd.ts';
import { type Call, type Schedule } from '../wasm/pool.ts';
import { FactorModel } from './factor-model.ts';
import type { ModelOptions } from './types.ts';
import type { Row } from './history.ts';
import { explainLinear, solveExplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, positive, seed, threads } from './params.ts';
import type { Side } from './side.ts';

const schema = z
  .object({
    factors: factors(150),
    iterations: iterations(40),
    learningRate: positive(0.01),
    /** Multiplies the learning rate after every epoch. */
    lrDecay: positive(1).refine((v) => v <= 1, 'lrDecay must be at most 1'),
    reg: nonNegative(0.1),
    regBias: nonNegative(0.02),
    initStd: nonNegative(0.1),
    seed: seed(),
    threads: threads(),
  })
  .strict();
export type SvdParams = z.output<typeof schema>;

/**
 * Biased matrix factorisation trained by stochastic gradient descent — "SVD" in Surprise's
 * sense: r̂ = μ + b_u + b_i + p_u·q_i, shuffled epochs, learning-rate decay.
 *
 * With threads T > 1 an epoch is blocked (Gemulla et al.'s DSGD schedule): users and items are
 * dealt into T groups of about equal ratings, the ratings into the T×T (user group, item group)
 * blocks, and each epoch runs T "diagonals" of T blocks that share no user and no item — in
 * parallel under `fitAsync`, one after another under `fit`, with the same result. Each block is
 * reshuffled every epoch by its own generator, so a model is deterministic per (seed, threads);
 * T = 1 is the classic single shuffled pass.
 */
export class Svd extends FactorModel<SvdParams> {
  readonly algorithm = 'svd' as const;
  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    super(parseParams(schema, params), true, 'last', options);
  }

  protected initialize(data: Interactions): void {
    const { factors: k, initStd } = this.params;
    const rng = new Rng(this.params.seed);
    for (const side of [this.users, this.items]) {
      const m = this.core.f32(side.factors, side.size * k);
      for (let t = 0; t < m.length; t++) m[t] = rng.normal() * initStd;
    }
  }

  /** One step per epoch (threads 1), else one per diagonal: threads steps per epoch. */
  protected stepCount(): number {
    return this.params.iterations * this.params.threads;
  }

  /** The epochs: one step per epoch (threads 1) or per diagonal of blocks (threads > 1). */
  protected *schedule(data: Interactions): Schedule {
    const T = this.params.threads;
    const n = data.size;
    const mark = this.core.mark();
    let top = -1;
    try {
      const users = this.core.putI32(data.userIdx);
      const items = this.core.putI32(data.itemIdx);
      const values = this.core.putF32(data.values);
      const sgd = (order: number, start: number, end: number, lr: number): Call => ({
        fn: 'sgdEpoch',
        args: [
          users, items, values, order, start, end, this.mean, this.users.factors, this.items.factors,
          this.users.bias, this.items.bias, this.params.factors, lr, this.params.reg, this.params.regBias,
        ],
      });
      let lr = this.params.learningRate;
      if (T === 1) {
        const order = this.core.putI32(Int32Array.from(data.values, (_, t) => t));
        const state = allocRng(this.core, this.params.seed);
        top = this.core.mark();
        for (let epoch = 0; epoch < this.params.iterations; epoch++) {
          yield [[{ fn: 'shuffle', args: [order, n, state] }, sgd(order, 0, n, lr)]];
          lr *= this.params.lrDecay;
        }
        return;
      }
      const plan = blockPlan(data, T, this.params.seed);
      const order = this.core.putI32(plan.order);
      // One generator per block: its shuffles do not depend on which thread runs it, or when.
      const states = this.core.alloc(T * T * RNG_STATE_BYTES);
      for (let b = 0; b < T * T; b++) rngSeed(this.core, states + b * RNG_STATE_BYTES, plan.seeds[b]);
      top = this.core.mark();
      const diagonals = Array.from({ length: T }, (_, d) => d);
      const rng = new Rng(plan.seeds[T * T]);
      for (let epoch = 0; epoch < this.params.iterations; epoch++) {
        rng.shuffle(diagonals);
        for (const d of diagonals) {
          yield Array.from({ length: T }, (_, t) => {
            const b = t * T + ((t + d) % T);
            const start = plan.offsets[b];
            const end = plan.offsets[b + 1];
            if (end <= start) return [];
            return [{ fn: 'shuffle', args: [order + start * 4, end - start, states + b * RNG_STATE_BYTES] }, sgd(order, start, end, lr)];
          });
        }
        lr *= this.params.lrDecay;
      }
    } finally {
      // Leak rather than free memory someone allocated after ours (a model used mid-fitAsync).
      if (top < 0 || this.core.mark() === top) this.core.release(mark);
    }
  }

  /** Fold-in solves the SGD objective exactly for one row: ridge regression with λ = reg. */
  protected solveRow(row: Row, other: Side, out: number, outBias: number): void {
    const n = Math.max(row.indices.length, 1);
    solveExplicitRow(this.core, row, other, this.mean, this.params.factors, this.params.reg / n, this.params.regBias / n, out, outBias);
  }

  protected contributions(user: number, item: number): Array<{ item: number; weight: number }> {
    const row = this.history.row(user);
    return explainLinear(this.core, row, this.items, item, this.mean, this.params.reg, this.params.regBias);
  }
}

/**
 * The blocked layout of a T-thread epoch: rating indices grouped by block b = userGroup·T +
 * itemGroup (block b is order[offsets[b], offsets[b+1])), and T² + 1 seeds (one per block's
 * generator, one for the order of diagonals). Users and items are dealt to the lightest group,
 * heaviest first (ties in seeded random order), so groups carry about equal ratings and the
 * blocks of a diagonal about equal work.
 */
function blockPlan(data: Interactions, T: number, seed: number): { order: Int32Array; offsets: Int32Array; seeds: number[] } {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const userGroup = deal(data.userIdx, data.users.size, T, rng);
  const itemGroup = deal(data.itemIdx, data.items.size, T, rng);
  const offsets = new Int32Array(T * T + 1);
  const block = new Int32Array(data.size);
  for (let r = 0; r < data.size; r++) offsets[(block[r] = userGroup[data.userIdx[r]] * T + itemGroup[data.itemIdx[r]]) + 1]++;
  for (let b = 0; b < T * T; b++) offsets[b + 1] += offsets[b];
  const fill = offsets.slice(0, T * T);
  const order = new Int32Array(data.size);
  for (let r = 0; r < data.size; r++) order[fill[block[r]]++] = r;
  const seeds = Array.from({ length: T * T + 1 }, () => Math.floor(rng.next() * 2 ** 32));
  return { order, offsets, seeds };
}

/** Group (0..T−1) of each of `size` entities, balancing the number of ratings per group. */
function deal(index: Int32Array, size: number, T: number, rng: Rng): Int32Array {
  const count = new Int32Array(size);
  for (let r = 0; r < index.length; r++) count[index[r]]++;
  const ids = Int32Array.from({ length: size }, (_, i) => i);
  rng.shuffle(ids);
  const rank = new Int32Array(size);
  ids.forEach((id, t) => (rank[id] = t));
  ids.sort((a, b) => count[b] - count[a] || rank[a] - rank[b]);
  const load = new Float64Array(T);
  const group = new Int32Array(size);
  for (const id of ids) {
    let g = 0;
    for (let h = 1; h < T; h++) if (load[h] < load[g]) g = h;
    group[id] = g;
    load[g] += count[id];
  }
  return group;
}

import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { allocRng, sgdEpoch, shuffle } from '../wasm/sgd.ts';
import { FactorModel } from './factor-model.ts';
import type { Row } from './history.ts';
import { explainLinear, solveExplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, positive, seed } from './params.ts';
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
  })
  .strict();
export type SvdParams = z.output<typeof schema>;

/**
 * Biased matrix factorisation trained by stochastic gradient descent — "SVD" in Surprise's
 * sense: r̂ = μ + b_u + b_i + p_u·q_i, shuffled epochs, learning-rate decay.
 */
export class Svd extends FactorModel<SvdParams> {
  readonly algorithm = 'svd' as const;

  constructor(params: Record<string, unknown> = {}) {
    super(parseParams(schema, params), true, 'last');
  }

  protected train(data: Interactions): void {
    const { factors: k, iterations: epochs, reg, regBias, initStd } = this.params;
    const rng = new Rng(this.params.seed);
    for (const side of [this.users, this.items]) {
      const m = this.core.f32(side.factors, side.size * k);
      for (let t = 0; t < m.length; t++) m[t] = rng.normal() * initStd;
    }
    const mark = this.core.mark();
    const users = this.core.putI32(data.userIdx);
    const items = this.core.putI32(data.itemIdx);
    const values = this.core.putF32(data.values);
    const order = this.core.putI32(Int32Array.from(data.values, (_, t) => t));
    const state = allocRng(this.core, this.params.seed);
    let lr = this.params.learningRate;
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(this.core, order, data.size, state);
      sgdEpoch(
        this.core, users, items, values, order, 0, data.size, this.mean,
        this.users.factors, this.items.factors, this.users.bias, this.items.bias, k, lr, reg, regBias,
      );
      lr *= this.params.lrDecay;
    }
    this.core.release(mark);
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

import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { alsExplicitSolve, alsScratchFloats, putCsr } from '../wasm/als.ts';
import { FactorModel } from './factor-model.ts';
import type { Row } from './history.ts';
import { explainLinear, solveExplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, seed } from './params.ts';
import type { Side } from './side.ts';

const schema = z
  .object({
    factors: factors(64),
    iterations: iterations(15),
    /** Weighted λ (ALS-WR): each row's penalty is reg × its number of ratings. */
    reg: nonNegative(0.1),
    regBias: nonNegative(0.1),
    initStd: nonNegative(0.1),
    seed: seed(),
  })
  .strict();
export type AlsParams = z.output<typeof schema>;

/**
 * Explicit-feedback ALS with user and item biases (Zhou et al. ALS-WR weighting): alternately
 * solves every user's [p_u; b_u] and every item's [q_i; b_i] exactly by Cholesky.
 */
export class Als extends FactorModel<AlsParams> {
  readonly algorithm = 'als' as const;

  constructor(params: Record<string, unknown> = {}) {
    super(parseParams(schema, params), true, 'last');
  }

  protected train(data: Interactions): void {
    const { factors: k, reg, regBias } = this.params;
    const rng = new Rng(this.params.seed);
    const q = this.core.f32(this.items.factors, this.items.size * k);
    for (let t = 0; t < q.length; t++) q[t] = rng.normal() * this.params.initStd;
    const mark = this.core.mark();
    const byUser = putCsr(this.core, data.byUser());
    const byItem = putCsr(this.core, data.byItem());
    const scratch = this.core.allocF32(alsScratchFloats(this.core, k));
    for (let it = 0; it < this.params.iterations; it++) {
      this.halfSweep(byUser, this.users, this.items, scratch, reg, regBias);
      this.halfSweep(byItem, this.items, this.users, scratch, reg, regBias);
    }
    this.core.release(mark);
  }

  private halfSweep(csr: ReturnType<typeof putCsr>, target: Side, other: Side, scratch: number, reg: number, regBias: number): void {
    alsExplicitSolve(
      this.core, csr, 0, target.size, other.factors, other.bias, this.mean, this.params.factors,
      reg, regBias, target.factors, target.bias, scratch,
    );
  }

  protected solveRow(row: Row, other: Side, out: number, outBias: number): void {
    solveExplicitRow(this.core, row, other, this.mean, this.params.factors, this.params.reg, this.params.regBias, out, outBias);
  }

  protected contributions(user: number, item: number): Array<{ item: number; weight: number }> {
    const row = this.history.row(user);
    const n = row.indices.length;
    return explainLinear(this.core, row, this.items, item, this.mean, this.params.reg * n, this.params.regBias * n);
  }
}

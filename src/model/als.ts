import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { alsScratchFloats, putCsr, type Csr } from '../wasm/als.ts';
import { shareRows, type Call, type Schedule } from '../wasm/pool.ts';
import { FactorModel } from './factor-model.ts';
import type { ModelOptions } from './types.ts';
import type { Row } from './history.ts';
import { explainLinear, solveExplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, seed, threads } from './params.ts';
import type { Side } from './side.ts';

const schema = z
  .object({
    factors: factors(64),
    iterations: iterations(15),
    /** Weighted λ (ALS-WR): each row's penalty is reg × its number of ratings. */
    reg: nonNegative(0.1),
    regBias: nonNegative(0.1),
    /**
     * false: plain ALS-WR factorisation, no global mean and no biases, as Spark MLlib's explicit
     * ALS (set on models imported from Spark). Predictions are then not clipped to the rating scale.
     */
    biases: z.boolean().default(true),
    initStd: nonNegative(0.1),
    seed: seed(),
    threads: threads(),
  })
  .strict();
export type AlsParams = z.output<typeof schema>;

/**
 * Explicit-feedback ALS with user and item biases (Zhou et al. ALS-WR weighting): alternately
 * solves every user's [p_u; b_u] and every item's [q_i; b_i] exactly by Cholesky.
 *
 * Rows are independent, so each half-sweep deals its rows to `threads` threads in chunks of about
 * equal work (see shareRows); `fitAsync` runs them in parallel, bit-identical to `fit`.
 */
export class Als extends FactorModel<AlsParams> {
  readonly algorithm = 'als' as const;
  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    const parsed = parseParams(schema, params);
    super(parsed, parsed.biases, 'last', options);
  }

  protected initialize(data: Interactions): void {
    const k = this.params.factors;
    const rng = new Rng(this.params.seed);
    const q = this.core.f32(this.items.factors, this.items.size * k);
    for (let t = 0; t < q.length; t++) q[t] = rng.normal() * this.params.initStd;
  }

  /** Two steps per iteration: the user half-sweep, then the item half-sweep. */
  protected stepCount(): number {
    return 2 * this.params.iterations;
  }

  /** The sweeps, one step per half-sweep: each thread its share of the rows and its own scratch. */
  protected *schedule(data: Interactions): Schedule {
    const { factors: k, threads } = this.params;
    const m = k + 1;
    // Relative work of a row with n ratings: the dual n×n solve below m entries, else the primal.
    const cost = (n: number) => 1 + (n <= m ? (n * n) / m + n ** 3 / (3 * m * m) : n + m / 3);
    const mark = this.core.mark();
    let top = -1;
    try {
      const userCsr = data.byUser();
      const itemCsr = data.byItem();
      const byUser = putCsr(this.core, userCsr);
      const byItem = putCsr(this.core, itemCsr);
      const scratch = Array.from({ length: threads }, () => this.core.allocF32(alsScratchFloats(this.core, k)));
      top = this.core.mark();
      const userRanges = shareRows(userCsr.indptr, threads, cost);
      const itemRanges = shareRows(itemCsr.indptr, threads, cost);
      for (let it = 0; it < this.params.iterations; it++) {
        yield this.halfSweep(byUser, userRanges, this.users, this.items, scratch);
        yield this.halfSweep(byItem, itemRanges, this.items, this.users, scratch);
      }
    } finally {
      // Leak rather than free memory someone allocated after ours (a model used mid-fitAsync).
      if (top < 0 || this.core.mark() === top) this.core.release(mark);
    }
  }

  private halfSweep(csr: Csr, ranges: Array<Array<[number, number]>>, target: Side, other: Side, scratch: number[]): Call[][] {
    const { factors: k, reg, regBias } = this.params;
    return ranges.map((own, t) =>
      own.map(([start, end]) => ({
        fn: 'alsExplicitSolve',
        args: [
          csr.indptr, csr.indices, csr.values, start, end, other.factors, other.bias, this.mean,
          k, reg, regBias, target.factors, target.bias, scratch[t],
        ],
      })),
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

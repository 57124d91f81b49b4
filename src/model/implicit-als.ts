import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { alsScratchFloats, gram, putCsr, type Csr } from '../wasm/als.ts';
import { shareRows, type Call, type Schedule } from '../wasm/pool.ts';
import { FactorModel } from './factor-model.ts';
import type { ModelOptions } from './types.ts';
import type { Row } from './history.ts';
import { explainImplicit, solveImplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, seed, threads } from './params.ts';
import type { Side } from './side.ts';

const schema = z
  .object({
    factors: factors(64),
    iterations: iterations(15),
    reg: nonNegative(50),
    /**
     * Scale each row's reg by its number of positive entries (ALS-WR weighting), as Spark MLlib's
     * ALS does: set on models imported from Spark, so fold-in and retraining keep its objective.
     */
    weightedReg: z.boolean().default(false),
    /** Confidence is 1 + alpha·|weight|; negative weights mean "not this". */
    alpha: nonNegative(5),
    /** Conjugate-gradient steps per row and sweep; 0 selects the exact Cholesky solve. */
    cgSteps: z.number().int().min(0).max(64).default(3),
    initStd: nonNegative(0.01),
    seed: seed(),
    threads: threads(),
  })
  .strict();
export type ImplicitAlsParams = z.output<typeof schema>;

/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with the YᵀY trick and warm-started
 * conjugate gradient (Takács et al.), the model behind liverec's living profiles.
 *
 * Each half-sweep computes YᵀY once, then deals its rows to `threads` threads in chunks of about
 * equal work (see shareRows); `fitAsync` solves them in parallel, bit-identical to `fit`.
 */
export class ImplicitAls extends FactorModel<ImplicitAlsParams> {
  readonly algorithm = 'implicit-als' as const;
  /** YᵀY of the current item factors, in core memory for fold-in (k×k). */
  private itemGram = 0;
  private itemGramFresh = false;
  private itemGram64: Float64Array | null = null;
  /** XᵀX of the user factors for item fold-in (k×k), valid while `userGramFresh`. */
  private userGramBuffer = 0;
  private userGramFresh = false;
  constructor(params: Record<string, unknown> = {}, options: ModelOptions = {}) {
    super(parseParams(schema, params), false, 'sum', options);
  }

  protected initialize(data: Interactions): void {
    const k = this.params.factors;
    const rng = new Rng(this.params.seed);
    for (const side of [this.users, this.items]) {
      const m = this.core.f32(side.factors, side.size * k);
      for (let t = 0; t < m.length; t++) m[t] = rng.normal() * this.params.initStd;
    }
  }

  /** Two steps per iteration: the user half-sweep, then the item half-sweep. */
  protected stepCount(): number {
    return 2 * this.params.iterations;
  }

  /** The sweeps, one step per half-sweep: each thread its share of the rows and its own scratch. */
  protected *schedule(data: Interactions): Schedule {
    const { factors: k, cgSteps, threads } = this.params;
    // Relative work of a row with n entries: CG costs (steps + 1)·(k² + 2nk); the exact solve
    // n·k²/2 + k³/6 + k², or n·k²/2 + n²·k/2 + n³/6 by Woodbury for n ≤ k/2.
    const cost = cgSteps > 0
      ? (n: number) => n + k / 2
      : (n: number) => (n <= k / 2 ? n + (n * n) / k + n ** 3 / (3 * k * k) : n + k / 3 + 2);
    const mark = this.core.mark();
    let top = -1;
    try {
      const userCsr = data.byUser();
      const itemCsr = data.byItem();
      const byUser = putCsr(this.core, userCsr);
      const byItem = putCsr(this.core, itemCsr);
      const scratch = Array.from({ length: threads }, () => this.core.allocF32(alsScratchFloats(this.core, k)));
      const g = this.core.allocF32(k * k);
      top = this.core.mark();
      const userRanges = shareRows(userCsr.indptr, threads, cost);
      const itemRanges = shareRows(itemCsr.indptr, threads, cost);
      for (let it = 0; it < this.params.iterations; it++) {
        yield this.halfSweep(byUser, userRanges, this.users, this.items, g, scratch);
        yield this.halfSweep(byItem, itemRanges, this.items, this.users, g, scratch);
      }
    } finally {
      // Leak rather than free memory someone allocated after ours (a model used mid-fitAsync).
      if (top < 0 || this.core.mark() === top) this.core.release(mark);
    }
  }

  /** Computes YᵀY of `other` here (once, on the calling thread), then one solve call per range. */
  private halfSweep(csr: Csr, ranges: Array<Array<[number, number]>>, target: Side, other: Side, g: number, scratch: number[]): Call[][] {
    const { factors: k, reg, alpha, weightedReg, cgSteps } = this.params;
    gram(this.core, other.factors, other.size, k, g);
    return ranges.map((own, t) =>
      own.map(([start, end]) => {
        const rows = [csr.indptr, csr.indices, csr.values, start, end, other.factors, g, k, reg, alpha, weightedReg ? 1 : 0];
        return cgSteps > 0
          ? { fn: 'alsImplicitSolveCG', args: [...rows, cgSteps, target.factors, scratch[t]] }
          : { fn: 'alsImplicitSolveCholesky', args: [...rows, target.factors, scratch[t]] };
      }),
    );
  }

  /**
   * Item vectors changed (training, fold-in, a cold item placed): YᵀY is recomputed on its next
   * use, not here, so placing thousands of cold items at a swap costs O(k) each and one Gram in all.
   */
  protected itemsChanged(): void {
    super.itemsChanged();
    this.itemGram64 = null;
    this.itemGramFresh = false;
    // Allocated here, never in itemGramMatrix: that may run inside a caller's scratch scope,
    // whose release would free the buffer.
    if (this.items && !this.itemGram) this.itemGram = this.core.allocF32(this.params.factors ** 2);
  }

  /** YᵀY of the current item factors, in core memory, for fold-in and explanations. */
  private itemGramMatrix(): number {
    if (!this.itemGramFresh) gram(this.core, this.items.factors, this.items.size, this.params.factors, this.itemGram);
    this.itemGramFresh = true;
    return this.itemGram;
  }

  protected usersChanged(): void {
    this.userGramFresh = false;
  }

  protected solveRow(row: Row, other: Side, out: number, _outBias: number): void {
    const g = other === this.items ? this.itemGramMatrix() : this.userGram();
    solveImplicitRow(this.core, row, other, g, this.params.factors, this.params.reg, this.params.alpha, this.params.weightedReg, out);
  }

  protected contributions(user: number, item: number): Array<{ item: number; weight: number }> {
    this.itemGram64 ??= Float64Array.from(this.core.f32(this.itemGramMatrix(), this.params.factors ** 2));
    const row = this.history.row(user);
    const reg = this.params.weightedReg ? this.params.reg * row.values.filter((v) => v > 0).length : this.params.reg;
    return explainImplicit(this.core, row, this.items, item, this.itemGram64, reg, this.params.alpha);
  }

  /**
   * XᵀX over users, for folding in an item: computed on first use after any user vector changed
   * (usersChanged), so item fold-ins between user fold-ins — an erasure re-solving each item the
   * user touched, a batch of new items — pay O(users·k²) once, not once each.
   */
  private userGram(): number {
    const k = this.params.factors;
    if (!this.userGramBuffer) this.userGramBuffer = this.core.allocF32(k * k);
    if (!this.userGramFresh) gram(this.core, this.users.factors, this.users.size, k, this.userGramBuffer);
    this.userGramFresh = true;
    return this.userGramBuffer;
  }
}

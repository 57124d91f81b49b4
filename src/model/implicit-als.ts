import { z } from 'zod';
import type { Interactions } from '../data/interactions.ts';
import { Rng } from '../data/rng.ts';
import { alsImplicitSolveCG, alsImplicitSolveCholesky, alsScratchFloats, gram, putCsr } from '../wasm/als.ts';
import { FactorModel } from './factor-model.ts';
import type { Row } from './history.ts';
import { explainImplicit, solveImplicitRow } from './row-solvers.ts';
import { factors, iterations, nonNegative, parseParams, seed } from './params.ts';
import type { Side } from './side.ts';

const schema = z
  .object({
    factors: factors(64),
    iterations: iterations(15),
    reg: nonNegative(50),
    /** Confidence is 1 + alpha·|weight|; negative weights mean "not this". */
    alpha: nonNegative(5),
    /** Conjugate-gradient steps per row and sweep; 0 selects the exact Cholesky solve. */
    cgSteps: z.number().int().min(0).max(64).default(3),
    initStd: nonNegative(0.01),
    seed: seed(),
  })
  .strict();
export type ImplicitAlsParams = z.output<typeof schema>;

/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with the YᵀY trick and warm-started
 * conjugate gradient (Takács et al.), the model behind liverec's living profiles.
 */
export class ImplicitAls extends FactorModel<ImplicitAlsParams> {
  readonly algorithm = 'implicit-als' as const;
  /** YᵀY of the current item factors, in core memory for fold-in (k×k). */
  private itemGram = 0;
  private itemGram64: Float64Array | null = null;
  private userGramBuffer = 0;

  constructor(params: Record<string, unknown> = {}) {
    super(parseParams(schema, params), false, 'sum');
  }

  protected train(data: Interactions): void {
    const k = this.params.factors;
    const rng = new Rng(this.params.seed);
    for (const side of [this.users, this.items]) {
      const m = this.core.f32(side.factors, side.size * k);
      for (let t = 0; t < m.length; t++) m[t] = rng.normal() * this.params.initStd;
    }
    const mark = this.core.mark();
    const byUser = putCsr(this.core, data.byUser());
    const byItem = putCsr(this.core, data.byItem());
    const scratch = this.core.allocF32(alsScratchFloats(this.core, k));
    const g = this.core.allocF32(k * k);
    for (let it = 0; it < this.params.iterations; it++) {
      this.halfSweep(byUser, this.users, this.items, g, scratch);
      this.halfSweep(byItem, this.items, this.users, g, scratch);
    }
    this.core.release(mark);
  }

  private halfSweep(csr: ReturnType<typeof putCsr>, target: Side, other: Side, g: number, scratch: number): void {
    const { factors: k, reg, alpha, cgSteps } = this.params;
    gram(this.core, other.factors, other.size, k, g);
    if (cgSteps > 0) {
      alsImplicitSolveCG(this.core, csr, 0, target.size, other.factors, g, k, reg, alpha, cgSteps, target.factors, scratch);
    } else {
      alsImplicitSolveCholesky(this.core, csr, 0, target.size, other.factors, g, k, reg, alpha, target.factors, scratch);
    }
  }

  protected itemsChanged(): void {
    super.itemsChanged();
    this.itemGram64 = null;
    if (!this.items) return;
    const k = this.params.factors;
    // The gram buffer is allocated once and kept: fold-in needs it on every request.
    if (!this.itemGram) this.itemGram = this.core.allocF32(k * k);
    gram(this.core, this.items.factors, this.items.size, k, this.itemGram);
  }

  protected solveRow(row: Row, other: Side, out: number, _outBias: number): void {
    const g = other === this.items ? this.itemGram : this.userGram();
    solveImplicitRow(this.core, row, other, g, this.params.factors, this.params.reg, this.params.alpha, out);
  }

  protected contributions(user: number, item: number): Array<{ item: number; weight: number }> {
    this.itemGram64 ??= Float64Array.from(this.core.f32(this.itemGram, this.params.factors ** 2));
    return explainImplicit(this.core, this.history.row(user), this.items, item, this.itemGram64, this.params.reg, this.params.alpha);
  }

  /** YᵀY over users, for folding in an item; recomputed each time because users change constantly. */
  private userGram(): number {
    const k = this.params.factors;
    if (!this.userGramBuffer) this.userGramBuffer = this.core.allocF32(k * k);
    gram(this.core, this.users.factors, this.users.size, k, this.userGramBuffer);
    return this.userGramBuffer;
  }
}

import type { Core } from '../wasm/core.ts';
import { alsExplicitSolve, alsImplicitSolveCholesky, alsScratchFloats } from '../wasm/als.ts';
import { addOuter, cholesky, choleskySolve } from './linalg.ts';
import type { Row } from './history.ts';
import type { Side } from './side.ts';

/**
 * One-row solves (fold-in) and their explanations, shared by the factor models. A row is put
 * into core memory as a one-row CSR and handed to the same kernel that training uses, so a
 * fold-in equals the row a full half-sweep would produce.
 */
function withRow<T>(core: Core, row: Row, k: number, fn: (csr: { indptr: number; indices: number; values: number }, scratch: number) => T): T {
  const mark = core.mark();
  try {
    const csr = {
      indptr: core.putI32([0, row.indices.length]),
      indices: core.putI32(row.indices),
      values: core.putF32(row.values),
    };
    return fn(csr, core.allocF32(alsScratchFloats(core, k)));
  } finally {
    core.release(mark);
  }
}

/** Biased ridge regression of the row's ratings on `other`'s factors (λ·n weighting inside). */
export function solveExplicitRow(
  core: Core, row: Row, other: Side, mean: number, k: number, lambda: number, lambdaBias: number, out: number, outBias: number,
): void {
  withRow(core, row, k, (csr, scratch) =>
    alsExplicitSolve(core, csr, 0, 1, other.factors, other.withBias ? other.bias : 0, mean, k, lambda, lambdaBias, out, outBias, scratch),
  );
}

/**
 * Implicit-feedback solve for one row. Exact (Cholesky): at k×k it costs about what a few CG
 * steps do, and a live profile should not depend on where a warm start left it. `weighted`: λ
 * times the row's positive entries (see alsImplicitSolveCholesky).
 */
export function solveImplicitRow(
  core: Core, row: Row, other: Side, gram: number, k: number, lambda: number, alpha: number, weighted: boolean, out: number,
): void {
  withRow(core, row, k, (csr, scratch) => alsImplicitSolveCholesky(core, csr, 0, 1, other.factors, gram, k, lambda, alpha, weighted, out, scratch));
}

/**
 * Explicit models: the user vector [p; b] is A⁻¹ Σ_j y_j t_j with y_j = [q_j; 1] and
 * t_j = r_j − μ − b_j, so item i's score splits exactly into per-item terms
 * ([q_i; 1]ᵀ A⁻¹ y_j) · t_j; without biases y_j = q_j and t_j = r_j − μ. λ values here are
 * totals (already multiplied by any count weighting).
 */
export function explainLinear(
  core: Core, row: Row, items: Side, item: number, mean: number, lambda: number, lambdaBias: number,
): Array<{ item: number; weight: number }> {
  const k = items.k;
  const m = items.withBias ? k + 1 : k;
  const a = new Float64Array(m * m);
  for (let f = 0; f < k; f++) a[f * m + f] = lambda;
  if (items.withBias) a[m * m - 1] = lambdaBias;
  const ys = Array.from(row.indices, (j) => augmented(core, items, j));
  for (const y of ys) addOuter(a, m, y, 1);
  const w = choleskySolve(cholesky(a, m), m, augmented(core, items, item));
  return ys.map((y, t) => {
    const target = row.values[t] - mean - items.biasAt(row.indices[t]);
    let s = 0;
    for (let f = 0; f < m; f++) s += w[f] * y[f];
    return { item: row.indices[t], weight: s * target };
  });
}

/**
 * Hu, Koren & Volinsky §5: with W = (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λI)⁻¹ the score of item i
 * is Σ_j (y_iᵀ W y_j) c_j p_j — each of the user's items contributes its own term.
 */
export function explainImplicit(
  core: Core, row: Row, items: Side, item: number, gram: Float64Array, lambda: number, alpha: number,
): Array<{ item: number; weight: number }> {
  const k = items.k;
  const a = Float64Array.from(gram);
  for (let f = 0; f < k; f++) a[f * k + f] += lambda;
  const ys = Array.from(row.indices, (j) => core.f32(items.row(j), k));
  ys.forEach((y, t) => addOuter(a, k, y, alpha * Math.abs(row.values[t])));
  const w = choleskySolve(cholesky(a, k), k, core.f32(items.row(item), k));
  return ys.map((y, t) => {
    const v = row.values[t];
    const confidence = 1 + alpha * Math.abs(v);
    let s = 0;
    for (let f = 0; f < k; f++) s += w[f] * y[f];
    return { item: row.indices[t], weight: v > 0 ? s * confidence : 0 };
  });
}

/** [q; 1] for a side with biases (the bias's coefficient), else q. */
function augmented(core: Core, side: Side, index: number): Float64Array {
  const y = new Float64Array(side.withBias ? side.k + 1 : side.k);
  y.set(core.f32(side.row(index), side.k));
  if (side.withBias) y[side.k] = 1;
  return y;
}

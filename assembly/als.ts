// Alternating least squares. Each kernel re-solves the CSR rows [rowStart, rowEnd) of one side
// with the other side fixed (`other`, row stride k). Rows are independent, so the host can give
// disjoint ranges of one half-sweep to worker threads sharing memory: a kernel writes only its
// own rows of the outputs and its own scratch block (alsScratchFloats(k) floats).
// Fold-in is the same call over a one-row CSR with rowStart 0, rowEnd 1.
import { axpy, dot, f32At, i32At, scale, setF32, zero } from './vec';
import { addDiagonal, choleskySolve, matVec, mirrorLower, syrLower } from './linalg';

// CG stops once ‖r‖² falls below this: the step would divide round-off by round-off.
const CG_EPS: f32 = 1e-20;

// Scratch sub-buffers start on 16-byte boundaries so vector loads stay aligned.
@inline
function align4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** f32 count of the scratch block one call (one thread) needs, for any of the ALS kernels. */
export function alsScratchFloats(k: i32): i32 {
  const m = k + 1; // explicit with biases solves the largest system: m×m plus its right side
  const direct = align4(m * m) + align4(m);
  const cg = 3 * align4(k); // residual, direction, A·direction
  return direct > cg ? direct : cg;
}

/** out = FᵀF (k×k, both triangles) over the n rows of F: the YᵀY shared by every implicit row. */
export function gram(factors: usize, n: i32, k: i32, out: usize): void {
  zero(out, k * k);
  const stride = <usize>k << 2;
  let row = factors;
  for (let i = 0; i < n; i++) {
    syrLower(out, k, 1, row, k);
    row += stride;
  }
  // CG multiplies by whole rows, so the symmetric half is materialised once here.
  mirrorLower(out, k);
}

/**
 * Biased explicit ALS-WR. For row r, x = [p_r; b_r] minimises
 * Σ_j (t_j − q_j·p_r − b_r)² + n_r(λ‖p_r‖² + λ_b b_r²), with t_j = value − mean − otherBias[j].
 * Regularisation scales with the row's count n_r (weighted-λ) so heavy and light rows are
 * shrunk alike. With otherBias = 0 there are no biases: only p_r is solved, t_j = value − mean
 * and outBias is not touched. An empty row gets zeros.
 */
export function alsExplicitSolve(
  indptr: usize,
  indices: usize,
  values: usize,
  rowStart: i32,
  rowEnd: i32,
  other: usize,
  otherBias: usize,
  mean: f32,
  k: i32,
  lambda: f32,
  lambdaBias: f32,
  outFactors: usize,
  outBias: usize,
  scratch: usize,
): void {
  const biased = otherBias != 0;
  const m = biased ? k + 1 : k;
  const A = scratch;
  const b = scratch + (<usize>align4(m * m) << 2);
  const stride = <usize>k << 2;
  // Row k of A couples the bias unknown to the factors. Its feature is the constant 1, so that
  // row and b[k] are built directly instead of copying every q_j into an extended [q_j; 1].
  const biasRow = A + <usize>k * (<usize>m << 2);
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = i32At(indptr, r);
    const end = i32At(indptr, r + 1);
    const x = outFactors + <usize>r * stride;
    if (begin >= end) {
      zero(x, k);
      if (biased) setF32(outBias, r, 0);
      continue;
    }
    zero(A, m * m);
    zero(b, k);
    let tSum: f32 = 0;
    for (let e = begin; e < end; e++) {
      const j = i32At(indices, e);
      const y = other + <usize>j * stride;
      let t = f32At(values, e) - mean;
      if (biased) {
        t -= f32At(otherBias, j);
        axpy(1, y, biasRow, k);
        tSum += t;
      }
      syrLower(A, m, 1, y, k);
      axpy(t, y, b, k);
    }
    const count = <f32>(end - begin);
    addDiagonal(A, m, k, count * lambda);
    if (biased) {
      setF32(biasRow, k, count + count * lambdaBias);
      setF32(b, k, tSum);
    }
    choleskySolve(A, b, m);
    memory.copy(x, b, stride);
    if (biased) setF32(outBias, r, f32At(b, k));
  }
}

/**
 * Implicit ALS (Hu–Koren–Volinsky), exact solve. An entry of weight w has confidence
 * c = 1 + alpha·|w| and preference p = (w > 0), so negative feedback is a confident 0.
 * Solves (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λI) x = Σ_j c_j p_j y_j, with YᵀY from `gram`:
 * unobserved pairs (c = 1, p = 0) are all inside YᵀY, so only the row's entries are visited.
 * An empty row gets zeros.
 */
export function alsImplicitSolveCholesky(
  indptr: usize,
  indices: usize,
  values: usize,
  rowStart: i32,
  rowEnd: i32,
  other: usize,
  gram: usize,
  k: i32,
  lambda: f32,
  alpha: f32,
  outFactors: usize,
  scratch: usize,
): void {
  const A = scratch;
  const b = scratch + (<usize>align4(k * k) << 2);
  const stride = <usize>k << 2;
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = i32At(indptr, r);
    const end = i32At(indptr, r + 1);
    const x = outFactors + <usize>r * stride;
    if (begin >= end) {
      zero(x, k);
      continue;
    }
    memory.copy(A, gram, <usize>(k * k) << 2);
    addDiagonal(A, k, k, lambda);
    zero(b, k);
    for (let e = begin; e < end; e++) {
      const y = other + <usize>i32At(indices, e) * stride;
      const w = f32At(values, e);
      const extra = alpha * Mathf.abs(w); // c − 1
      if (extra != 0) syrLower(A, k, extra, y, k);
      if (w > 0) axpy(1 + extra, y, b, k);
    }
    choleskySolve(A, b, k);
    memory.copy(x, b, stride);
  }
}

/**
 * Implicit ALS by `cgSteps` conjugate-gradient steps on the same system as
 * alsImplicitSolveCholesky, warm-started from the current contents of outFactors row r (the
 * previous iterate, or the current/zero vector for fold-in). The k×k matrix is never formed:
 * A·v = YᵀY·v + Σ_j (c_j − 1)(y_j·v) y_j + λv costs O(k² + n_r·k) instead of O(n_r·k²), and a
 * good warm start needs only a few steps. An empty row gets zeros.
 */
export function alsImplicitSolveCG(
  indptr: usize,
  indices: usize,
  values: usize,
  rowStart: i32,
  rowEnd: i32,
  other: usize,
  gram: usize,
  k: i32,
  lambda: f32,
  alpha: f32,
  cgSteps: i32,
  outFactors: usize,
  scratch: usize,
): void {
  const vec = <usize>align4(k) << 2;
  const res = scratch;
  const dir = scratch + vec;
  const adir = scratch + 2 * vec;
  const stride = <usize>k << 2;
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = i32At(indptr, r);
    const end = i32At(indptr, r + 1);
    const x = outFactors + <usize>r * stride;
    if (begin >= end) {
      zero(x, k);
      continue;
    }
    // res = b − A·x in one pass over the entries: Σ_j [c_j p_j − (c_j − 1)(y_j·x)] y_j − (YᵀY + λI)·x.
    matVec(gram, x, res, k);
    axpy(lambda, x, res, k);
    scale(-1, res, k);
    for (let e = begin; e < end; e++) {
      const y = other + <usize>i32At(indices, e) * stride;
      const w = f32At(values, e);
      const extra = alpha * Mathf.abs(w);
      const target: f32 = w > 0 ? 1 + extra : 0; // c·p
      const coef = target - extra * dot(y, x, k);
      if (coef != 0) axpy(coef, y, res, k);
    }
    memory.copy(dir, res, stride);
    let rs = dot(res, res, k);
    for (let step = 0; step < cgSteps; step++) {
      if (rs < CG_EPS) break;
      matVec(gram, dir, adir, k);
      axpy(lambda, dir, adir, k);
      for (let e = begin; e < end; e++) {
        const extra = alpha * Mathf.abs(f32At(values, e));
        if (extra == 0) continue;
        const y = other + <usize>i32At(indices, e) * stride;
        axpy(extra * dot(y, dir, k), y, adir, k);
      }
      const curvature = dot(dir, adir, k);
      // A is positive definite, so a non-positive curvature is round-off: stop rather than diverge.
      if (!(curvature > 0)) break;
      const a = rs / curvature;
      axpy(a, dir, x, k);
      axpy(-a, adir, res, k);
      const rsNext = dot(res, res, k);
      scale(rsNext / rs, dir, k);
      axpy(1, res, dir, k);
      rs = rsNext;
    }
  }
}

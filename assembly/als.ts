// Alternating least squares. Each kernel re-solves the CSR rows [rowStart, rowEnd) of one side
// with the other side fixed (`other`, row stride k). Rows are independent, so the host can give
// disjoint ranges of one half-sweep to worker threads sharing memory: a kernel writes only its
// own rows of the outputs and its own scratch block (alsScratchFloats(k) floats).
// Fold-in is the same call over a one-row CSR with rowStart 0, rowEnd 1.
import { axpy, dot, f32At, i32At, scale, setF32, zero } from './vec';
import { backSubUpper, cholUpper, dot4, forwardRows, matVec, mirrorUpper, rank1Upper, rank4Upper } from './linalg';

// CG stops once ‖r‖² falls below this: the step would divide round-off by round-off.
const CG_EPS: f32 = 1e-20;

// Scratch sub-buffers start on 16-byte boundaries so vector loads stay aligned.
@inline
function align4(n: i32): i32 {
  return (n + 3) & ~3;
}

// Explicit rows with at most this many entries are solved in the dual (kernel) form, an n×n
// system, instead of the m×m primal one (m unknowns): up to n ≈ m, forming QQᵀ (n²·m/2) and
// factoring it (n³/6) is cheaper than n·m²/2 + m³/6. Most item rows are far below it.
@inline
function dualMax(m: i32): i32 {
  return m;
}

/** f32 count of the scratch block one call (one thread) needs, for any of the ALS kernels. */
export function alsScratchFloats(k: i32): i32 {
  // Explicit with biases solves the largest system, m = k + 1 unknowns:
  //   primal: m rows of stride align4(m + 1) (unknowns, then b), 4 gathered rows, diagonal, x;
  //   dual: n ≤ dualMax(m) rows of stride align4(n + 2) (QQᵀ, t, ones), diagonal, γ.
  const m = k + 1;
  const primal = (m + 6) * align4(m + 1);
  const d = dualMax(m);
  const dual = (d + 2) * align4(d + 2);
  const explicit = primal > dual ? primal : dual;
  // Implicit: B's factor (k rows of stride S = align4(k + 1)), then the larger of the primal
  // area (k + 6 rows of S) and the Woodbury one (n + 2 rows of S for Z, c, x; the n×n system,
  // its diagonal and w at stride align4(n + 1)).
  const S = align4(k + 1);
  const w = woodburyMax(k);
  const wood = (w + 2) * S + (w + 2) * align4(w + 1);
  const implicitArea = (k + 6) * S > wood ? (k + 6) * S : wood;
  const implicit = k * S + implicitArea;
  const cg = 3 * align4(k); // residual, direction, A·direction
  return max(max(explicit, implicit), cg);
}

/** dst[0..k) = src[0..k) (f32x4 body, scalar tail): cheaper than memory.copy for one short row. */
@inline
function copyF32(dst: usize, src: usize, k: i32): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    v128.store(dst + off, v128.load(src + off));
  }
  for (; i < k; i++) setF32(dst, i, f32At(src, i));
}

/** out = FᵀF (k×k, both triangles) over the n rows of F: the YᵀY shared by every implicit row. */
export function gram(factors: usize, n: i32, k: i32, out: usize): void {
  zero(out, k * k);
  const stride = <usize>k << 2;
  let row = factors;
  let i = 0;
  // Upper triangle, four rows of F per pass; then mirrored, because CG multiplies by whole rows.
  for (; i + 4 <= n; i += 4) {
    const r1 = row + stride;
    const r2 = r1 + stride;
    const r3 = r2 + stride;
    rank4Upper(out, k, 0, k, k, 1, row, r1, r2, r3, row, r1, r2, r3);
    row += stride << 2;
  }
  for (; i < n; i++) {
    rank1Upper(out, k, 0, k, k, 1, row, row);
    row += stride;
  }
  mirrorUpper(out, k);
}

/**
 * Biased explicit ALS-WR. For row r, x = [p_r; b_r] minimises
 * Σ_j (t_j − q_j·p_r − b_r)² + n_r(λ‖p_r‖² + λ_b b_r²), with t_j = value − mean − otherBias[j].
 * Regularisation scales with the row's count n_r (weighted-λ) so heavy and light rows are
 * shrunk alike. With otherBias = 0 there are no biases: only p_r is solved, t_j = value − mean
 * and outBias is not touched. An empty row gets zeros.
 *
 * Two exact solves of the same system, chosen per row by its entry count n (so a one-row fold-in
 * takes the same path as the half-sweep): the primal (k+1)×(k+1) normal equations, or for
 * n ≤ dualMax(m) with λ > 0 the dual form p = Qᵀγ, (QQᵀ + nλI)γ = t − b·1, an n×n system.
 * A dual system that is not numerically definite (a clamped pivot) is redone in the primal.
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
  // Primal layout: the augmented upper triangle [A | b], columns 0..k−1 factors, k the bias
  // (when biased), m the right side, zero padding up to the stride S.
  const S = align4(m + 1);
  const rs = <usize>S << 2;
  const A = scratch;
  const buf = A + <usize>m * rs; // four gathered rows [q_j, 1, t_j, 0…] of one rank-4 update
  const diag = buf + (rs << 2);
  const x = diag + rs;
  const stride = <usize>k << 2;
  // The dual divides by nothing but needs nλ > 0 for QQᵀ + nλI to be definite; λ = 0 stays primal.
  const nDual = lambda > 0 ? dualMax(m) : 0;
  const biasRatio = lambdaBias / lambda; // d_b / d_f, for the dual's bias
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = i32At(indptr, r);
    const end = i32At(indptr, r + 1);
    const out = outFactors + <usize>r * stride;
    const n = end - begin;
    if (n <= 0) {
      zero(out, k);
      if (biased) setF32(outBias, r, 0);
      continue;
    }
    const count = <f32>n;
    if (
      n <= nDual &&
      explicitDual(indices, values, begin, n, other, otherBias, mean, k, count * lambda, biasRatio, out, outBias + (<usize>r << 2), scratch)
    ) {
      continue;
    }
    memory.fill(A, 0, <usize>m * rs);
    memory.fill(buf, 0, rs << 2);
    for (let e = begin; e < end; e += 4) {
      const take = min(4, end - e);
      let dst = buf;
      for (let q = 0; q < take; q++) {
        const j = i32At(indices, e + q);
        let t = f32At(values, e + q) - mean;
        if (biased) {
          t -= f32At(otherBias, j);
          setF32(dst, k, 1);
        }
        copyF32(dst, other + <usize>j * stride, k);
        setF32(dst, m, t);
        dst += rs;
      }
      if (take < 4) memory.fill(dst, 0, <usize>(4 - take) * rs);
      // Every row of [A | b] at once: row a += Σ_q y_q[a]·y_q[a..], with y = [q, 1, t].
      rank4Upper(A, S, 0, m, S, 1, buf, buf + rs, buf + 2 * rs, buf + 3 * rs, buf, buf + rs, buf + 2 * rs, buf + 3 * rs);
    }
    let p = A;
    const dstep = rs + 4;
    const reg = count * lambda;
    for (let a = 0; a < k; a++) {
      store<f32>(p, load<f32>(p) + reg);
      p += dstep;
    }
    if (biased) store<f32>(p, load<f32>(p) + count * lambdaBias); // A[k][k] already holds n
    cholUpper(A, S, m, S, diag);
    backSubUpper(A, S, m, A + (<usize>m << 2), rs, x);
    copyF32(out, x, k);
    if (biased) setF32(outBias, r, f32At(x, k));
  }
}

/**
 * The dual solve of one explicit row with n entries (see alsExplicitSolve): writes p to out and,
 * when biased, b to outBias. False when H was not numerically definite (a pivot was clamped): the
 * caller then solves the row in the primal, as before the dual existed.
 * With H = QQᵀ + d_f·I = UᵀU, the bias equation d_f·1ᵀγ = d_b·b gives
 * b = (1ᵀH⁻¹t) / (1ᵀH⁻¹1 + d_b/d_f), and both inner products are dots of the forward-substituted
 * columns U⁻ᵀt and U⁻ᵀ1, which the factorisation (t and 1 ride along as columns n, n+1) gives.
 */
function explicitDual(
  indices: usize,
  values: usize,
  begin: i32,
  n: i32,
  other: usize,
  otherBias: usize,
  mean: f32,
  k: i32,
  reg: f32,
  biasRatio: f32,
  out: usize,
  outBias: usize,
  scratch: usize,
): bool {
  const biased = otherBias != 0;
  const S = align4(n + 2);
  const rs = <usize>S << 2;
  const H = scratch;
  const diag = H + <usize>n * rs;
  const g = diag + rs;
  const stride = <usize>k << 2;
  const idx = indices + (<usize>begin << 2);
  memory.fill(H, 0, <usize>n * rs);
  let row = H;
  for (let i = 0; i < n; i++) {
    const j = i32At(idx, i);
    const yi = other + <usize>j * stride;
    let c = i;
    for (; c + 4 <= n; c += 4) {
      v128.store(
        row + (<usize>c << 2),
        dot4(
          yi,
          other + <usize>i32At(idx, c) * stride,
          other + <usize>i32At(idx, c + 1) * stride,
          other + <usize>i32At(idx, c + 2) * stride,
          other + <usize>i32At(idx, c + 3) * stride,
          k,
        ),
      );
    }
    for (; c < n; c++) setF32(row, c, dot(yi, other + <usize>i32At(idx, c) * stride, k));
    setF32(row, i, f32At(row, i) + reg);
    let t = f32At(values, begin + i) - mean;
    if (biased) {
      t -= f32At(otherBias, j);
      setF32(row, n + 1, 1);
    }
    setF32(row, n, t);
    row += rs;
  }
  if (!cholUpper(H, S, n, S, diag)) return false;
  if (biased) {
    let s1t: f32 = 0;
    let s11: f32 = 0;
    row = H;
    for (let i = 0; i < n; i++) {
      const one = f32At(row, n + 1);
      s1t += one * f32At(row, n);
      s11 += one * one;
      row += rs;
    }
    const bias = s1t / (s11 + biasRatio);
    store<f32>(outBias, bias);
    row = H;
    for (let i = 0; i < n; i++) {
      setF32(row, n, f32At(row, n) - bias * f32At(row, n + 1));
      row += rs;
    }
  }
  backSubUpper(H, S, n, H + (<usize>n << 2), rs, g);
  zero(out, k);
  for (let i = 0; i < n; i++) axpy(f32At(g, i), other + <usize>i32At(idx, i) * stride, out, k);
  return true;
}

// Implicit rows with at most this many entries are solved through the Woodbury identity around
// the shared B = YᵀY + λI (factored once per call) instead of factoring their own k×k matrix:
// (n+1)·k²/2 + n²·k/2 + n³/6 against n·k²/2 + k³/6, a win below about k/2 entries.
@inline
function woodburyMax(k: i32): i32 {
  return k >> 1;
}

/**
 * Implicit ALS (Hu–Koren–Volinsky), exact solve. An entry of weight w has confidence
 * c = 1 + alpha·|w| and preference p = (w > 0), so negative feedback is a confident 0.
 * Solves (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λI) x = Σ_j c_j p_j y_j, with YᵀY from `gram`:
 * unobserved pairs (c = 1, p = 0) are all inside YᵀY, so only the row's entries are visited.
 * An empty row gets zeros.
 *
 * Two exact solves of the same system, chosen per row by its entry count n (so a one-row fold-in
 * takes the same path as the half-sweep): forming and factoring the row's own matrix, or, for
 * n ≤ woodburyMax(k) with λ > 0, alpha ≥ 0, the Woodbury identity around B = YᵀY + λI = UᵀU:
 * with z_j = U⁻ᵀ(√(c_j − 1)·y_j) and c = U⁻ᵀb, x = U⁻¹(c − Z(I + ZᵀZ)⁻¹Zᵀc), an n×n system.
 * If B itself is not numerically definite (a clamped pivot), the call uses the first way only.
 *
 * With `weighted` set, a row's λ is lambda × its count of positive entries (ALS-WR weighting, as
 * Spark MLlib does): B then differs per row, so only the first way is used, and a row without a
 * positive entry gets zeros (its right side is 0).
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
  weighted: bool,
  outFactors: usize,
  scratch: usize,
): void {
  // Augmented upper triangle [A | b] as in alsExplicitSolve: columns 0..k−1, b at column k.
  const S = align4(k + 1);
  const rs = <usize>S << 2;
  const stride = <usize>k << 2;
  // B's factor U (k rows of stride S) stays for the whole call; each row's work area follows.
  const UB = scratch;
  const area = UB + <usize>k * rs;
  // Primal work area.
  const A = area;
  const buf = A + <usize>k * rs; // four gathered rows [(c−1)·y, c·p, 0…]
  const diag = buf + (rs << 2);
  const x = diag + rs;
  // Woodbury is only set up when a row first needs it; B = G + λI is definite for λ > 0.
  let nWood = lambda > 0 && alpha >= 0 && !weighted ? woodburyMax(k) : 0;
  let haveB = false;
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = i32At(indptr, r);
    const end = i32At(indptr, r + 1);
    const out = outFactors + <usize>r * stride;
    const n = end - begin;
    const positive = weighted ? positives(values, begin, end) : 1;
    if (n <= 0 || positive == 0) {
      zero(out, k);
      continue;
    }
    if (n <= nWood && !haveB) {
      loadGram(UB, S, gram, k, lambda);
      haveB = true;
      if (!cholUpper(UB, S, k, S, area)) nWood = 0;
    }
    if (n <= nWood) {
      implicitWoodbury(indices, values, begin, n, other, k, alpha, UB, out, area);
      continue;
    }
    loadGram(A, S, gram, k, weighted ? lambda * <f32>positive : lambda);
    memory.fill(buf, 0, rs << 2);
    for (let e = begin; e < end; e += 4) {
      const take = min(4, end - e);
      // Coefficients (row index a) come straight from y; padding slots use their zero buf row.
      let c0 = buf;
      let c1 = buf + rs;
      let c2 = buf + 2 * rs;
      let c3 = buf + 3 * rs;
      let dst = buf;
      for (let q = 0; q < take; q++) {
        const y = other + <usize>i32At(indices, e + q) * stride;
        const w = f32At(values, e + q);
        const extra = alpha * Mathf.abs(w); // c − 1
        const ve = f32x4.splat(extra);
        let i = 0;
        for (; i + 4 <= k; i += 4) {
          const off = <usize>i << 2;
          v128.store(dst + off, f32x4.mul(ve, v128.load(y + off)));
        }
        for (; i < k; i++) setF32(dst, i, extra * f32At(y, i));
        setF32(dst, k, w > 0 ? 1 + extra : 0);
        if (q == 0) c0 = y;
        else if (q == 1) c1 = y;
        else if (q == 2) c2 = y;
        else c3 = y;
        dst += rs;
      }
      if (take < 4) memory.fill(dst, 0, <usize>(4 - take) * rs);
      rank4Upper(A, S, 0, k, S, 1, c0, c1, c2, c3, buf, buf + rs, buf + 2 * rs, buf + 3 * rs);
    }
    cholUpper(A, S, k, S, diag);
    backSubUpper(A, S, k, A + stride, rs, x);
    copyF32(out, x, k);
  }
}

/** How many of the entries [begin, end) are positive (preference 1). */
function positives(values: usize, begin: i32, end: i32): i32 {
  let count = 0;
  for (let e = begin; e < end; e++) if (f32At(values, e) > 0) count++;
  return count;
}

/** A (k rows of stride S floats) = G + λI with zero columns k..S−1; G is k×k, row stride k. */
function loadGram(A: usize, S: i32, gram: usize, k: i32, lambda: f32): void {
  const rs = <usize>S << 2;
  const stride = <usize>k << 2;
  let row = A;
  let g = gram;
  for (let a = 0; a < k; a++) {
    copyF32(row, g, k); // whole rows: the part left of the diagonal is simply unused
    memory.fill(row + stride, 0, rs - stride);
    store<f32>(row + (<usize>a << 2), load<f32>(row + (<usize>a << 2)) + lambda);
    row += rs;
    g += stride;
  }
}

/**
 * One implicit row with n entries by the Woodbury identity (see alsImplicitSolveCholesky), given
 * B's factor U (k rows of stride S = align4(k + 1)). Writes x to out.
 */
function implicitWoodbury(
  indices: usize,
  values: usize,
  begin: i32,
  n: i32,
  other: usize,
  k: i32,
  alpha: f32,
  U: usize,
  out: usize,
  scratch: usize,
): void {
  const S = align4(k + 1);
  const rs = <usize>S << 2;
  const stride = <usize>k << 2;
  // Rows of Z: z_0..z_{n−1}, then c. Then the n×n system [I + ZᵀZ | Zᵀc], its diagonal, w, x.
  const Z = scratch;
  const c = Z + <usize>n * rs;
  const Sm = align4(n + 1);
  const ms = <usize>Sm << 2;
  const M = c + rs;
  const diag = M + <usize>n * ms;
  const w = diag + ms;
  const x = w + ms;
  zero(c, k);
  let z = Z;
  for (let e = begin; e < begin + n; e++) {
    const y = other + <usize>i32At(indices, e) * stride;
    const v = f32At(values, e);
    const extra = alpha * Mathf.abs(v);
    const root = f32x4.splat(Mathf.sqrt(extra));
    let i = 0;
    for (; i + 4 <= k; i += 4) {
      const off = <usize>i << 2;
      v128.store(z + off, f32x4.mul(root, v128.load(y + off)));
    }
    for (; i < k; i++) setF32(z, i, Mathf.sqrt(extra) * f32At(y, i));
    if (v > 0) axpy(1 + extra, y, c, k);
    z += rs;
  }
  forwardRows(U, S, k, Z, S, n + 1);
  // Upper triangle of ZᵀZ with Zᵀc as column n: row e against rows e..n of [Z; c].
  memory.fill(M, 0, <usize>n * ms);
  let row = M;
  z = Z;
  for (let e = 0; e < n; e++) {
    let f = e;
    let zf = z;
    for (; f + 4 <= n + 1; f += 4) {
      v128.store(row + (<usize>f << 2), dot4(z, zf, zf + rs, zf + 2 * rs, zf + 3 * rs, k));
      zf += rs << 2;
    }
    for (; f <= n; f++) {
      setF32(row, f, dot(z, zf, k));
      zf += rs;
    }
    setF32(row, e, f32At(row, e) + 1);
    row += ms;
    z += rs;
  }
  cholUpper(M, Sm, n, Sm, diag);
  backSubUpper(M, Sm, n, M + (<usize>n << 2), ms, w);
  z = Z;
  for (let e = 0; e < n; e++) {
    axpy(-f32At(w, e), z, c, k);
    z += rs;
  }
  backSubUpper(U, S, k, c, 4, x);
  copyF32(out, x, k);
}

/**
 * Implicit ALS by `cgSteps` conjugate-gradient steps on the same system as
 * alsImplicitSolveCholesky, warm-started from the current contents of outFactors row r (the
 * previous iterate, or the current/zero vector for fold-in). The k×k matrix is never formed:
 * A·v = YᵀY·v + Σ_j (c_j − 1)(y_j·v) y_j + λv costs O(k² + n_r·k) instead of O(n_r·k²), and a
 * good warm start needs only a few steps. An empty row gets zeros; `weighted` as in
 * alsImplicitSolveCholesky.
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
  weighted: bool,
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
    const positive = weighted ? positives(values, begin, end) : 1;
    if (begin >= end || positive == 0) {
      zero(x, k);
      continue;
    }
    const rowLambda = weighted ? lambda * <f32>positive : lambda;
    // res = b − A·x in one pass over the entries: Σ_j [c_j p_j − (c_j − 1)(y_j·x)] y_j − (YᵀY + λI)·x.
    matVec(gram, x, res, k);
    axpy(rowLambda, x, res, k);
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
      axpy(rowLambda, dir, adir, k);
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

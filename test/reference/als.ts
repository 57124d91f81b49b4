/**
 * Plain TypeScript (float64) reference ALS kernels and losses: the WebAssembly kernels in
 * assembly/als.ts are tested against these. Same argument meaning and order as the kernels,
 * with host arrays instead of pointers; outputs are written into the arrays passed.
 */
type Vec = ArrayLike<number>;
type Out = { [i: number]: number; length: number };

/** Host-side CSR: row r's entries are indices/values[indptr[r] .. indptr[r+1]). */
export interface CsrArrays {
  indptr: Vec;
  indices: Vec;
  values: Vec;
}

/** Minimum scratch the math needs: the biased explicit (k+1)×(k+1) system and its right side. */
export function alsScratchFloatsRef(k: number): number {
  return Math.max((k + 1) * (k + 1) + (k + 1), 3 * k);
}

/** FᵀF (k×k, full) over the n rows of F. */
export function gramRef(factors: Vec, n: number, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) g[a * k + b] += factors[r * k + a] * factors[r * k + b];
    }
  }
  return g;
}

/** x with A·x = b for symmetric positive-definite A (n×n, full), by Cholesky in float64. */
export function choleskySolveRef(A: Vec, b: Vec, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let p = 0; p < j; p++) s -= L[i * n + p] * L[j * n + p];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) x[i] -= L[i * n + p] * x[p];
    x[i] /= L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) x[i] -= L[p * n + i] * x[p];
    x[i] /= L[i * n + i];
  }
  return x;
}

/** Biased explicit ALS-WR half-sweep over rows [rowStart, rowEnd); otherBias null = no biases. */
export function alsExplicitSolveRef(
  csr: CsrArrays, rowStart: number, rowEnd: number, other: Vec, otherBias: Vec | null, mean: number,
  k: number, lambda: number, lambdaBias: number, outFactors: Out, outBias: Out | null,
): void {
  const m = otherBias ? k + 1 : k;
  for (let r = rowStart; r < rowEnd; r++) {
    const begin = csr.indptr[r];
    const end = csr.indptr[r + 1];
    if (begin >= end) {
      for (let a = 0; a < k; a++) outFactors[r * k + a] = 0;
      if (otherBias && outBias) outBias[r] = 0;
      continue;
    }
    const A = new Float64Array(m * m);
    const b = new Float64Array(m);
    const y = new Float64Array(m);
    for (let e = begin; e < end; e++) {
      const j = csr.indices[e];
      for (let a = 0; a < k; a++) y[a] = other[j * k + a];
      if (otherBias) y[k] = 1;
      const t = csr.values[e] - mean - (otherBias ? otherBias[j] : 0);
      for (let a = 0; a < m; a++) {
        b[a] += y[a] * t;
        for (let c = 0; c < m; c++) A[a * m + c] += y[a] * y[c];
      }
    }
    const n = end - begin;
    for (let a = 0; a < k; a++) A[a * m + a] += n * lambda;
    if (otherBias) A[k * m + k] += n * lambdaBias;
    const x = choleskySolveRef(A, b, m);
    for (let a = 0; a < k; a++) outFactors[r * k + a] = x[a];
    if (otherBias && outBias) outBias[r] = x[k];
  }
}

/** Confidence minus one and confidence × preference for an implicit entry of weight w. */
function implicitEntry(w: number, alpha: number): { extra: number; target: number } {
  const extra = alpha * Math.abs(w);
  return { extra, target: w > 0 ? 1 + extra : 0 };
}

/** A·v for the implicit system of one row: (YᵀY + λI)v + Σ (c−1)(y·v) y. */
function implicitApply(
  csr: CsrArrays, r: number, other: Vec, gram: Vec, k: number, lambda: number, alpha: number, v: Float64Array,
): Float64Array {
  const out = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = lambda * v[a];
    for (let c = 0; c < k; c++) s += gram[a * k + c] * v[c];
    out[a] = s;
  }
  for (let e = csr.indptr[r]; e < csr.indptr[r + 1]; e++) {
    const j = csr.indices[e];
    const { extra } = implicitEntry(csr.values[e], alpha);
    let yv = 0;
    for (let a = 0; a < k; a++) yv += other[j * k + a] * v[a];
    for (let a = 0; a < k; a++) out[a] += extra * yv * other[j * k + a];
  }
  return out;
}

function implicitRhs(csr: CsrArrays, r: number, other: Vec, k: number, alpha: number): Float64Array {
  const b = new Float64Array(k);
  for (let e = csr.indptr[r]; e < csr.indptr[r + 1]; e++) {
    const j = csr.indices[e];
    const { target } = implicitEntry(csr.values[e], alpha);
    for (let a = 0; a < k; a++) b[a] += target * other[j * k + a];
  }
  return b;
}

/**
 * A row's λ: lambda, or with `weighted` lambda × its positive entries (ALS-WR, as Spark MLlib).
 * Null when the row is solved as zeros: no entries, or weighted with no positive one.
 */
function implicitRowLambda(csr: CsrArrays, r: number, lambda: number, weighted: boolean): number | null {
  let positives = 0;
  for (let e = csr.indptr[r]; e < csr.indptr[r + 1]; e++) if (csr.values[e] > 0) positives++;
  if (csr.indptr[r] >= csr.indptr[r + 1] || (weighted && positives === 0)) return null;
  return weighted ? lambda * positives : lambda;
}

/** Exact implicit ALS half-sweep: the system is formed explicitly and solved by Cholesky. */
export function alsImplicitSolveCholeskyRef(
  csr: CsrArrays, rowStart: number, rowEnd: number, other: Vec, gram: Vec, k: number,
  lambda: number, alpha: number, weighted: boolean, outFactors: Out,
): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const rowLambda = implicitRowLambda(csr, r, lambda, weighted);
    if (rowLambda === null) {
      for (let a = 0; a < k; a++) outFactors[r * k + a] = 0;
      continue;
    }
    const A = new Float64Array(k * k);
    for (let c = 0; c < k; c++) {
      const unit = new Float64Array(k);
      unit[c] = 1;
      const col = implicitApply(csr, r, other, gram, k, rowLambda, alpha, unit);
      for (let a = 0; a < k; a++) A[a * k + c] = col[a];
    }
    const x = choleskySolveRef(A, implicitRhs(csr, r, other, k, alpha), k);
    for (let a = 0; a < k; a++) outFactors[r * k + a] = x[a];
  }
}

/** Implicit ALS half-sweep by cgSteps CG steps warm-started from outFactors' current rows. */
export function alsImplicitSolveCGRef(
  csr: CsrArrays, rowStart: number, rowEnd: number, other: Vec, gram: Vec, k: number,
  lambda: number, alpha: number, weighted: boolean, cgSteps: number, outFactors: Out,
): void {
  const dotv = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  for (let r = rowStart; r < rowEnd; r++) {
    const rowLambda = implicitRowLambda(csr, r, lambda, weighted);
    if (rowLambda === null) {
      for (let a = 0; a < k; a++) outFactors[r * k + a] = 0;
      continue;
    }
    const x = new Float64Array(k);
    for (let a = 0; a < k; a++) x[a] = outFactors[r * k + a];
    const b = implicitRhs(csr, r, other, k, alpha);
    const ax = implicitApply(csr, r, other, gram, k, rowLambda, alpha, x);
    const res = b.map((bi, i) => bi - ax[i]);
    const dir = Float64Array.from(res);
    let rs = dotv(res, res);
    for (let step = 0; step < cgSteps && rs >= 1e-20; step++) {
      const adir = implicitApply(csr, r, other, gram, k, rowLambda, alpha, dir);
      const curvature = dotv(dir, adir);
      if (!(curvature > 0)) break;
      const a = rs / curvature;
      for (let i = 0; i < k; i++) {
        x[i] += a * dir[i];
        res[i] -= a * adir[i];
      }
      const rsNext = dotv(res, res);
      for (let i = 0; i < k; i++) dir[i] = res[i] + (rsNext / rs) * dir[i];
      rs = rsNext;
    }
    for (let a = 0; a < k; a++) outFactors[r * k + a] = x[a];
  }
}

/**
 * Biased explicit ALS-WR objective over the ratings of userCsr:
 * Σ (v − mean − b_u − b_i − p_u·q_i)² + Σ_u n_u(λ‖p_u‖² + λ_b b_u²) + Σ_i n_i(λ‖q_i‖² + λ_b b_i²).
 * Null biases mean the unbiased model (no bias terms).
 */
export function explicitLoss(
  userCsr: CsrArrays, nUsers: number, nItems: number, userFactors: Vec, userBias: Vec | null,
  itemFactors: Vec, itemBias: Vec | null, mean: number, k: number, lambda: number, lambdaBias: number,
): number {
  let loss = 0;
  const itemCount = new Float64Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    for (let e = userCsr.indptr[u]; e < userCsr.indptr[u + 1]; e++) {
      const i = userCsr.indices[e];
      itemCount[i]++;
      let pred = mean + (userBias ? userBias[u] : 0) + (itemBias ? itemBias[i] : 0);
      for (let a = 0; a < k; a++) pred += userFactors[u * k + a] * itemFactors[i * k + a];
      loss += (userCsr.values[e] - pred) ** 2;
    }
  }
  const penalty = (n: number, f: Vec, bias: Vec | null, rows: (r: number) => number) => {
    let s = 0;
    for (let r = 0; r < n; r++) {
      let sq = 0;
      for (let a = 0; a < k; a++) sq += f[r * k + a] ** 2;
      s += rows(r) * (lambda * sq + (bias ? lambdaBias * bias[r] ** 2 : 0));
    }
    return s;
  };
  loss += penalty(nUsers, userFactors, userBias, (u) => userCsr.indptr[u + 1] - userCsr.indptr[u]);
  loss += penalty(nItems, itemFactors, itemBias, (i) => itemCount[i]);
  return loss;
}

/**
 * Hu–Koren–Volinsky objective over every (user, item) pair: Σ c(p − x_u·y_i)² + λ(‖X‖² + ‖Y‖²),
 * with c = 1 + alpha·|w|, p = (w > 0) for entries of userCsr and c = 1, p = 0 elsewhere.
 */
export function implicitLoss(
  userCsr: CsrArrays, nUsers: number, nItems: number, userFactors: Vec, itemFactors: Vec,
  k: number, lambda: number, alpha: number,
): number {
  let loss = 0;
  const weight = new Map<number, number>();
  for (let u = 0; u < nUsers; u++) {
    weight.clear();
    for (let e = userCsr.indptr[u]; e < userCsr.indptr[u + 1]; e++) weight.set(userCsr.indices[e], userCsr.values[e]);
    for (let i = 0; i < nItems; i++) {
      const w = weight.get(i);
      const c = w === undefined ? 1 : 1 + alpha * Math.abs(w);
      const p = w !== undefined && w > 0 ? 1 : 0;
      let s = 0;
      for (let a = 0; a < k; a++) s += userFactors[u * k + a] * itemFactors[i * k + a];
      loss += c * (p - s) ** 2;
    }
  }
  let sq = 0;
  for (let t = 0; t < nUsers * k; t++) sq += userFactors[t] ** 2;
  for (let t = 0; t < nItems * k; t++) sq += itemFactors[t] ** 2;
  return loss + lambda * sq;
}

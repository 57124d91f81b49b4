import type { Core } from './core.ts';

/** A CSR matrix already in core memory: byte addresses of indptr (i32), indices (i32), values (f32). */
export interface Csr {
  indptr: number;
  indices: number;
  values: number;
}

interface AlsExports {
  gram(factors: number, n: number, k: number, out: number): void;
  alsExplicitSolve(
    indptr: number, indices: number, values: number, rowStart: number, rowEnd: number,
    other: number, otherBias: number, mean: number, k: number, lambda: number, lambdaBias: number,
    outFactors: number, outBias: number, scratch: number,
  ): void;
  alsImplicitSolveCG(
    indptr: number, indices: number, values: number, rowStart: number, rowEnd: number,
    other: number, gram: number, k: number, lambda: number, alpha: number, weighted: number, cgSteps: number,
    outFactors: number, scratch: number,
  ): void;
  alsImplicitSolveCholesky(
    indptr: number, indices: number, values: number, rowStart: number, rowEnd: number,
    other: number, gram: number, k: number, lambda: number, alpha: number, weighted: number,
    outFactors: number, scratch: number,
  ): void;
  alsScratchFloats(k: number): number;
  choleskySolve(A: number, b: number, n: number): number;
}

const api = (core: Core) => core.exports as unknown as AlsExports;

/** Copies a host CSR (indptr/indices/values arrays) into core memory. */
export function putCsr(
  core: Core, csr: { indptr: ArrayLike<number>; indices: ArrayLike<number>; values: ArrayLike<number> },
): Csr {
  return { indptr: core.putI32(csr.indptr), indices: core.putI32(csr.indices), values: core.putF32(csr.values) };
}

/** f32 count of the scratch block one ALS call needs (allocate one block per thread). */
export function alsScratchFloats(core: Core, k: number): number {
  return api(core).alsScratchFloats(k);
}

/** out (k×k, both triangles) = FᵀF over the n rows of `factors`: the YᵀY for the implicit solvers. */
export function gram(core: Core, factors: number, n: number, k: number, out: number): void {
  api(core).gram(factors, n, k, out);
}

/**
 * Biased explicit ALS-WR over CSR rows [rowStart, rowEnd): writes outFactors row r and outBias[r].
 * Targets are value − mean − otherBias[j]; regularisation is n_r·λ on factors, n_r·λBias on the
 * bias. otherBias = 0 disables biases (factors only; outBias untouched). Empty rows get zeros.
 */
export function alsExplicitSolve(
  core: Core, csr: Csr, rowStart: number, rowEnd: number, other: number, otherBias: number, mean: number,
  k: number, lambda: number, lambdaBias: number, outFactors: number, outBias: number, scratch: number,
): void {
  api(core).alsExplicitSolve(
    csr.indptr, csr.indices, csr.values, rowStart, rowEnd, other, otherBias, mean, k, lambda, lambdaBias,
    outFactors, outBias, scratch,
  );
}

/**
 * Implicit ALS (confidence 1 + alpha·|w|, preference w > 0) by `cgSteps` conjugate-gradient steps,
 * warm-started from the current outFactors rows. `gramPtr` is YᵀY of `other` (see `gram`).
 * `weighted`: each row's λ is lambda × its positive entries (ALS-WR, Spark MLlib's weighting);
 * a row without one gets zeros.
 */
export function alsImplicitSolveCG(
  core: Core, csr: Csr, rowStart: number, rowEnd: number, other: number, gramPtr: number, k: number,
  lambda: number, alpha: number, weighted: boolean, cgSteps: number, outFactors: number, scratch: number,
): void {
  api(core).alsImplicitSolveCG(
    csr.indptr, csr.indices, csr.values, rowStart, rowEnd, other, gramPtr, k, lambda, alpha, weighted ? 1 : 0, cgSteps,
    outFactors, scratch,
  );
}

/** The exact implicit ALS solve (same system as alsImplicitSolveCG), by Cholesky. */
export function alsImplicitSolveCholesky(
  core: Core, csr: Csr, rowStart: number, rowEnd: number, other: number, gramPtr: number, k: number,
  lambda: number, alpha: number, weighted: boolean, outFactors: number, scratch: number,
): void {
  api(core).alsImplicitSolveCholesky(
    csr.indptr, csr.indices, csr.values, rowStart, rowEnd, other, gramPtr, k, lambda, alpha, weighted ? 1 : 0, outFactors, scratch,
  );
}

/**
 * Solves A·x = b in place for a symmetric positive-definite n×n A (only its lower triangle is
 * read; it is overwritten by the Cholesky factor, b by x). False when A was not numerically
 * positive definite (a pivot was clamped; x is finite but approximate).
 */
export function choleskySolve(core: Core, A: number, b: number, n: number): boolean {
  return api(core).choleskySolve(A, b, n) !== 0;
}

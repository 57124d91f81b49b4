import type { Core } from './core.ts';

interface TopKExports {
  scoreItems(factors: number, bias: number, nItems: number, k: number, user: number, scores: number): void;
  selectTop(
    scores: number, nItems: number, exclude: number, excludeLen: number, mask: number,
    n: number, outIdx: number, outScores: number,
  ): number;
  vecDot(a: number, b: number, k: number): number;
}

const api = (core: Core) => core.exports as unknown as TopKExports;

/** scores[i] = factors[i]·user (+ bias[i] when biasPtr ≠ 0). */
export function scoreItems(core: Core, factors: number, biasPtr: number, nItems: number, k: number, user: number, scores: number): void {
  api(core).scoreItems(factors, biasPtr, nItems, k, user, scores);
}

/**
 * Best `n` items by score, best first. `exclude` must be ascending item indices; `mask` (0 = none)
 * has one byte per item, non-zero = candidate.
 */
export function selectTop(
  core: Core, scores: number, nItems: number, exclude: number, excludeLen: number, mask: number,
  n: number, outIdx: number, outScores: number,
): number {
  return api(core).selectTop(scores, nItems, exclude, excludeLen, mask, n, outIdx, outScores);
}

export function vecDot(core: Core, a: number, b: number, k: number): number {
  return api(core).vecDot(a, b, k);
}

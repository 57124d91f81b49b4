/** Plain TypeScript reference kernels: the WebAssembly ones are tested against these. */
export function dotRef(a: ArrayLike<number>, b: ArrayLike<number>, offA = 0, offB = 0, k = a.length): number {
  let s = 0;
  for (let i = 0; i < k; i++) s += a[offA + i] * b[offB + i];
  return s;
}

/** Full stable sort of candidates by score descending (ties → lower index first). */
export function topNRef(scores: ArrayLike<number>, n: number, exclude: Set<number>, mask?: Uint8Array): { idx: number[]; score: number[] } {
  const cands: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (exclude.has(i) || (mask && !mask[i]) || Number.isNaN(scores[i])) continue;
    cands.push(i);
  }
  cands.sort((a, b) => scores[b] - scores[a] || a - b);
  const idx = cands.slice(0, n);
  return { idx, score: idx.map((i) => scores[i]) };
}

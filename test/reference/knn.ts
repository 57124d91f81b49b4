/** Plain TypeScript references for the item-kNN kernels, by brute force over a dense matrix. */

/** One observed rating: user row, item column, value. */
export type Triplet = [user: number, item: number, value: number];

export interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** CSR of the triplets grouped by `by` (0 = user rows, 1 = item rows), indices ascending. */
export function toCsr(triplets: Triplet[], nRows: number, by: 0 | 1): Csr {
  const sorted = [...triplets].sort((a, b) => a[by] - b[by] || a[1 - by] - b[1 - by]);
  const indptr = new Int32Array(nRows + 1);
  for (const t of sorted) indptr[t[by] + 1]++;
  for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
  return {
    indptr,
    indices: Int32Array.from(sorted, (t) => t[1 - by]),
    values: Float32Array.from(sorted, (t) => t[2]),
  };
}

/**
 * Dense brute force: sim(i, j) = Σ_u r_ui r_uj / (‖i‖‖j‖) · co/(co + shrink) for every pair with
 * co ≥ 1 common users, j ≠ i; top K per item by sim desc, ties → lower index; −1 / 0 padding.
 */
export function cosineNeighborsRef(
  triplets: Triplet[], nUsers: number, nItems: number, K: number, shrink: number,
): { idx: Int32Array; sim: Float64Array } {
  const dense = new Float64Array(nUsers * nItems);
  const seen = new Uint8Array(nUsers * nItems);
  for (const [u, i, v] of triplets) {
    dense[u * nItems + i] = Math.fround(v);
    seen[u * nItems + i] = 1;
  }
  const norm = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) {
    let s = 0;
    for (let u = 0; u < nUsers; u++) s += dense[u * nItems + i] ** 2;
    norm[i] = Math.sqrt(s);
  }
  const idx = new Int32Array(nItems * K).fill(-1);
  const sim = new Float64Array(nItems * K);
  for (let i = 0; i < nItems; i++) {
    const cands: { j: number; s: number }[] = [];
    for (let j = 0; j < nItems; j++) {
      if (j === i) continue;
      let d = 0;
      let co = 0;
      for (let u = 0; u < nUsers; u++) {
        if (!seen[u * nItems + i] || !seen[u * nItems + j]) continue;
        co++;
        d += dense[u * nItems + i] * dense[u * nItems + j];
      }
      if (co === 0) continue;
      const denom = norm[i] * norm[j];
      cands.push({ j, s: (denom > 0 ? d / denom : 0) * (co / (co + shrink)) });
    }
    cands.sort((a, b) => b.s - a.s || a.j - b.j);
    cands.slice(0, K).forEach((c, n) => {
      idx[i * K + n] = c.j;
      sim[i * K + n] = c.s;
    });
  }
  return { idx, sim };
}

/** scores[j] = Σ_i w_i · sim(i → j) over the user's items i and each stored neighbour j of i. */
export function knnScoresRef(
  neighbors: ArrayLike<number>, sims: ArrayLike<number>, K: number, nItems: number,
  userItems: ArrayLike<number>, userValues: ArrayLike<number>,
): Float64Array {
  const scores = new Float64Array(nItems);
  for (let t = 0; t < userItems.length; t++) {
    const i = userItems[t];
    for (let n = 0; n < K; n++) {
      const j = neighbors[i * K + n];
      if (j < 0) continue;
      scores[j] += userValues[t] * sims[i * K + n];
    }
  }
  return scores;
}

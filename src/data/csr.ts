/** Compressed sparse rows: row r's entries are indices/values[indptr[r] .. indptr[r+1]). */
export interface Csr {
  rows: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * Builds a CSR from coordinate triples by counting sort (O(nnz + rows)); within a row the
 * entries are sorted by column so exclusion lists and merges can walk them in order.
 */
export function buildCsr(rows: number, rowIdx: Int32Array, colIdx: Int32Array, values: Float32Array): Csr {
  const nnz = rowIdx.length;
  const indptr = new Int32Array(rows + 1);
  for (let t = 0; t < nnz; t++) indptr[rowIdx[t] + 1]++;
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  const fill = indptr.slice(0, rows);
  const indices = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  for (let t = 0; t < nnz; t++) {
    const pos = fill[rowIdx[t]]++;
    indices[pos] = colIdx[t];
    vals[pos] = values[t];
  }
  for (let r = 0; r < rows; r++) sortRow(indices, vals, indptr[r], indptr[r + 1]);
  return { rows, indptr, indices, values: vals };
}

/** The same matrix with rows and columns swapped. */
export function transpose(csr: Csr, cols: number): Csr {
  const rowIdx = new Int32Array(csr.indices.length);
  for (let r = 0; r < csr.rows; r++) rowIdx.fill(r, csr.indptr[r], csr.indptr[r + 1]);
  return buildCsr(cols, csr.indices, rowIdx, csr.values);
}

function sortRow(indices: Int32Array, values: Float32Array, start: number, end: number): void {
  if (end - start > 32) return sortLongRow(indices, values, start, end);
  // Most rows are short: insertion sort beats allocating for a general sort.
  for (let a = start + 1; a < end; a++) {
    const key = indices[a];
    const val = values[a];
    let b = a - 1;
    while (b >= start && indices[b] > key) {
      indices[b + 1] = indices[b];
      values[b + 1] = values[b];
      b--;
    }
    indices[b + 1] = key;
    values[b + 1] = val;
  }
}

function sortLongRow(indices: Int32Array, values: Float32Array, start: number, end: number): void {
  const cols = indices.slice(start, end);
  const vals = values.slice(start, end);
  const order = Array.from(cols.keys()).sort((a, b) => cols[a] - cols[b]);
  for (let t = 0; t < order.length; t++) {
    indices[start + t] = cols[order[t]];
    values[start + t] = vals[order[t]];
  }
}

/** The user → items matrix with row `u` emptied. */
export function withoutRow(byUser: Csr, u: number): Csr {
  const start = byUser.indptr[u];
  const gone = byUser.indptr[u + 1] - start;
  const indptr = byUser.indptr.map((x, r) => (r > u ? x - gone : x));
  const cut = <T extends Int32Array | Float32Array>(a: T) => {
    const out = a.slice(0, a.length - gone) as T;
    out.set(a.subarray(start + gone), start);
    return out;
  };
  return { rows: byUser.rows, indptr, indices: cut(byUser.indices), values: cut(byUser.values) };
}

import type { Csr } from '../data/csr.ts';

/** One row of the interaction matrix: ascending column indices with their values. */
export interface Row {
  indices: Int32Array;
  values: Float32Array;
}

const EMPTY: Row = { indices: new Int32Array(0), values: new Float32Array(0) };

/**
 * What each user has interacted with, as the model knows it: the training matrix, overridden
 * per user by the latest fold-in. Used to leave seen items out and to explain scores.
 */
export class History {
  private readonly overrides = new Map<number, Row>();

  constructor(private readonly base: Csr | null) {}

  row(user: number): Row {
    const own = this.overrides.get(user);
    if (own) return own;
    if (!this.base || user >= this.base.rows) return EMPTY;
    const start = this.base.indptr[user];
    const end = this.base.indptr[user + 1];
    return { indices: this.base.indices.subarray(start, end), values: this.base.values.subarray(start, end) };
  }

  set(user: number, row: Row): void {
    this.overrides.set(user, row);
  }

  /** All rows 0..users-1 as one CSR (for saving). */
  toCsr(users: number): Csr {
    const indptr = new Int32Array(users + 1);
    for (let u = 0; u < users; u++) indptr[u + 1] = indptr[u] + this.row(u).indices.length;
    const indices = new Int32Array(indptr[users]);
    const values = new Float32Array(indptr[users]);
    for (let u = 0; u < users; u++) {
      const r = this.row(u);
      indices.set(r.indices, indptr[u]);
      values.set(r.values, indptr[u]);
    }
    return { rows: users, indptr, indices, values };
  }
}

/** Builds a row from (index, value) pairs: drops negative indices, sorts, combines repeats. */
export function toRow(pairs: Array<[number, number]>, combine: 'last' | 'sum'): Row {
  const merged = new Map<number, number>();
  for (const [i, v] of pairs) {
    if (i < 0) continue;
    const prev = merged.get(i);
    merged.set(i, prev !== undefined && combine === 'sum' ? prev + v : v);
  }
  const indices = Int32Array.from([...merged.keys()].sort((a, b) => a - b));
  const values = Float32Array.from(indices, (i) => merged.get(i)!);
  return { indices, values };
}

/**
 * Users most like user `u` by the cosine of their interaction rows (each user's row from
 * `history`, co-occurrences through `byItem`, the item → users matrix), best first.
 */
export function similarUsersByRows(u: number, n: number, history: History, byItem: Csr, idOf: (user: number) => string): Array<{ userId: string; score: number }> {
  const row = history.row(u);
  const dots = new Map<number, number>();
  for (let t = 0; t < row.indices.length; t++) {
    const i = row.indices[t];
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
      const v = byItem.indices[p];
      if (v !== u) dots.set(v, (dots.get(v) ?? 0) + row.values[t] * byItem.values[p]);
    }
  }
  const own = norm(row.values);
  return [...dots]
    .map(([v, d]) => ({ userId: idOf(v), score: d / (own * norm(history.row(v).values) || 1) }))
    .sort((a, b) => b.score - a.score || (a.userId < b.userId ? -1 : 1))
    .slice(0, n);
}

function norm(values: Float32Array): number {
  let s = 0;
  for (let t = 0; t < values.length; t++) s += values[t] * values[t];
  return Math.sqrt(s);
}

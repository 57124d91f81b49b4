import { IdMap } from './id-map.ts';
import { buildCsr, type Csr } from './csr.ts';
import { InvalidInputError } from '../errors.ts';

/** One observed user–item signal: a rating, or an implicit weight such as a click count. */
export interface Interaction {
  userId: string;
  itemId: string;
  value: number;
}

/** How repeated (user, item) pairs combine: ratings keep the last, implicit weights add up. */
export type DuplicatePolicy = 'last' | 'sum';

const MAX_ITEMS_PER_KEY = 2 ** 26;

/**
 * A validated, de-duplicated interaction matrix with its id maps: the input every model fits on.
 */
export class Interactions {
  private constructor(
    readonly users: IdMap,
    readonly items: IdMap,
    readonly userIdx: Int32Array,
    readonly itemIdx: Int32Array,
    readonly values: Float32Array,
  ) {}

  get size(): number {
    return this.values.length;
  }

  static from(rows: Iterable<Interaction>, duplicates: DuplicatePolicy = 'last', users = new IdMap(), items = new IdMap()): Interactions {
    const us: number[] = [];
    const is: number[] = [];
    const vs: number[] = [];
    const seen = new Map<number, number>();
    let line = 0;
    for (const row of rows) {
      checkRow(row, line++);
      const u = users.add(row.userId);
      const i = items.add(row.itemId);
      if (i >= MAX_ITEMS_PER_KEY) throw new InvalidInputError(`at most ${MAX_ITEMS_PER_KEY} distinct items are supported`, 'itemId');
      const key = u * MAX_ITEMS_PER_KEY + i;
      const at = seen.get(key);
      if (at === undefined) {
        seen.set(key, vs.length);
        us.push(u);
        is.push(i);
        vs.push(row.value);
      } else {
        vs[at] = duplicates === 'sum' ? vs[at] + row.value : row.value;
      }
    }
    if (vs.length === 0) throw new InvalidInputError('no interactions: fitting needs at least one (user, item, value) row', 'interactions');
    return new Interactions(users, items, Int32Array.from(us), Int32Array.from(is), Float32Array.from(vs));
  }

  /**
   * From already de-duplicated coordinate arrays (e.g. built by a storage scan or sent to a
   * training thread): no per-row objects, so tens of millions of rows stay cheap.
   */
  static fromArrays(users: string[], items: string[], userIdx: Int32Array, itemIdx: Int32Array, values: Float32Array): Interactions {
    if (values.length === 0) throw new InvalidInputError('no interactions: fitting needs at least one (user, item, value) row', 'interactions');
    if (userIdx.length !== values.length || itemIdx.length !== values.length) {
      throw new InvalidInputError('userIdx, itemIdx and values must have the same length', 'interactions');
    }
    for (let t = 0; t < values.length; t++) {
      if (!Number.isFinite(values[t])) throw new InvalidInputError(`interaction ${t}: value must be a finite number, got ${values[t]}`, 'value');
    }
    return new Interactions(IdMap.from(users), IdMap.from(items), userIdx, itemIdx, values);
  }

  /** Rows are users, columns items. */
  byUser(): Csr {
    return buildCsr(this.users.size, this.userIdx, this.itemIdx, this.values);
  }

  /** Rows are items, columns users. */
  byItem(): Csr {
    return buildCsr(this.items.size, this.itemIdx, this.userIdx, this.values);
  }

  mean(): number {
    let s = 0;
    for (let t = 0; t < this.values.length; t++) s += this.values[t];
    return s / this.values.length;
  }
}

function checkRow(row: Interaction, line: number): void {
  if (typeof row.userId !== 'string' || row.userId.length === 0) {
    throw new InvalidInputError(`interaction ${line}: userId must be a non-empty string`, 'userId');
  }
  if (typeof row.itemId !== 'string' || row.itemId.length === 0) {
    throw new InvalidInputError(`interaction ${line}: itemId must be a non-empty string`, 'itemId');
  }
  if (typeof row.value !== 'number' || !Number.isFinite(row.value)) {
    throw new InvalidInputError(`interaction ${line}: value must be a finite number, got ${String(row.value)}`, 'value');
  }
}

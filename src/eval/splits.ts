/**
 * Train/test splits. Randomised splits draw every choice from one seeded Rng, so a seed
 * reproduces a split exactly. Every split returns train and test as subsequences of the
 * input (input order kept), so together they partition the rows with none lost or repeated.
 */
import { Rng } from '../data/rng.ts';
import { InvalidInputError } from '../errors.ts';
import type { RatingRow } from './readers.ts';

export interface Split {
  train: RatingRow[];
  test: RatingRow[];
}

export const SPLIT_NAMES = ['random', 'stratified', 'temporal', 'leave-last'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface SplitOptions {
  testFraction?: number;
  seed?: number;
  n?: number;
}

function checkFraction(testFraction: number): void {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new InvalidInputError(`testFraction must be a number in [0, 1], got ${testFraction}`);
  }
}

function checkSeed(seed: number): void {
  // Rng truncates seeds to uint32, so 1.5 would silently reproduce seed 1's split.
  if (!Number.isInteger(seed)) throw new InvalidInputError(`seed must be an integer, got ${seed}`);
}

function partition(rows: RatingRow[], inTest: Uint8Array): Split {
  const train: RatingRow[] = [];
  const test: RatingRow[] = [];
  for (let i = 0; i < rows.length; i++) (inTest[i] ? test : train).push(rows[i]);
  return { train, test };
}

/** Row indices per user, users in order of first appearance (so the Rng is consumed reproducibly). */
function indicesByUser(rows: RatingRow[]): number[][] {
  const byUser = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const list = byUser.get(rows[i].user);
    if (list) list.push(i);
    else byUser.set(rows[i].user, [i]);
  }
  return [...byUser.values()];
}

/** Indices ordered oldest first; equal timestamps keep input order so ties resolve reproducibly. */
function byTime(rows: RatingRow[], indices: number[]): number[] {
  return indices.sort((a, b) => rows[a].timestamp - rows[b].timestamp || a - b);
}

/** Holdout of exactly round(n·testFraction) rows chosen uniformly at random. */
export function randomSplit(rows: RatingRow[], testFraction: number, seed: number): Split {
  checkFraction(testFraction);
  checkSeed(seed);
  const order = Int32Array.from(rows.keys());
  new Rng(seed).shuffle(order);
  const inTest = new Uint8Array(rows.length);
  const testSize = Math.round(rows.length * testFraction);
  for (let i = 0; i < testSize; i++) inTest[order[i]] = 1;
  return partition(rows, inTest);
}

/**
 * Per user, round(n_u·testFraction) randomly chosen rows go to test, following Microsoft
 * Recommenders' python_stratified_split so every user is represented in proportion.
 * A user with a single row keeps it in train: a test row for a user the model never saw
 * measures cold start, not ranking. Both sides get ≥ 1 row of every user with ≥ 2 rows
 * exactly when 1 ≤ round(n_u·f) ≤ n_u − 1, which holds for all n_u ≥ 2 when 0.25 ≤ f < 0.75.
 */
export function stratifiedSplit(rows: RatingRow[], testFraction: number, seed: number): Split {
  checkFraction(testFraction);
  checkSeed(seed);
  const rng = new Rng(seed);
  const inTest = new Uint8Array(rows.length);
  for (const indices of indicesByUser(rows)) {
    if (indices.length < 2) continue;
    rng.shuffle(indices);
    const testSize = Math.round(indices.length * testFraction);
    for (let i = 0; i < testSize; i++) inTest[indices[i]] = 1;
  }
  return partition(rows, inTest);
}

/** Global time cut: the latest round(n·testFraction) rows are test, as if training stopped at a date. */
export function temporalSplit(rows: RatingRow[], testFraction: number): Split {
  checkFraction(testFraction);
  const order = byTime(rows, [...rows.keys()]);
  const inTest = new Uint8Array(rows.length);
  for (let i = rows.length - Math.round(rows.length * testFraction); i < rows.length; i++) inTest[order[i]] = 1;
  return partition(rows, inTest);
}

/**
 * Per user, the n most recent rows are test (ties: the later row in the input counts as more
 * recent). Users with ≤ n rows keep everything in train, so every test user has history.
 */
export function leaveLastN(rows: RatingRow[], n: number): Split {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`n must be a positive integer, got ${n}`);
  const inTest = new Uint8Array(rows.length);
  for (const indices of indicesByUser(rows)) {
    if (indices.length <= n) continue;
    const order = byTime(rows, indices);
    for (let i = order.length - n; i < order.length; i++) inTest[order[i]] = 1;
  }
  return partition(rows, inTest);
}

function required(value: number | undefined, option: keyof SplitOptions, name: SplitName): number {
  if (value === undefined) throw new InvalidInputError(`the ${name} split needs the ${option} option`);
  return value;
}

/** Runs the split the CLI names; each split requires only the options it uses. */
export function splitBy(name: SplitName, rows: RatingRow[], options: SplitOptions): Split {
  switch (name) {
    case 'random':
      return randomSplit(rows, required(options.testFraction, 'testFraction', name), required(options.seed, 'seed', name));
    case 'stratified':
      return stratifiedSplit(rows, required(options.testFraction, 'testFraction', name), required(options.seed, 'seed', name));
    case 'temporal':
      return temporalSplit(rows, required(options.testFraction, 'testFraction', name));
    case 'leave-last':
      return leaveLastN(rows, required(options.n, 'n', name));
    default:
      throw new InvalidInputError(`unknown split "${name as string}"; accepted: ${SPLIT_NAMES.join(', ')}`);
  }
}

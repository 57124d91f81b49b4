/**
 * Hyperparameter search. The rows are split into train and test exactly as `liverec eval` does;
 * a validation split is then carved from train alone, every trial fits on the rest of train and
 * is scored on validation, and only the winner is refitted on all of train and scored on test,
 * once. Test rows never reach the search, so the test metrics are an honest held-out estimate.
 * Every random choice comes from one Rng seeded by `seed`, so a seed reproduces the trials.
 */
import { Rng } from '../data/rng.ts';
import { InvalidInputError, ModelStateError } from '../errors.ts';
import { createModel, isExplicit, type Algorithm } from '../model/index.ts';
import type { Params } from '../model/params.ts';
import { evaluate, type EvalMetrics } from './evaluate.ts';
import type { RatingRow } from './readers.ts';
import { randomSplit, splitBy, stratifiedSplit, type SplitName } from './splits.ts';

export const TUNABLE = ['svd', 'als', 'implicit-als', 'item-knn', 'ease'] as const;
export type TunableAlgorithm = (typeof TUNABLE)[number];
export const TUNE_METRICS = ['rmse', 'ndcg', 'precision', 'map', 'recall'] as const;
export type TuneMetric = (typeof TUNE_METRICS)[number];
export const SEARCHES = ['random', 'grid'] as const;
export type Search = (typeof SEARCHES)[number];

/** The test shares `liverec eval --data` uses, so a tune run's test set is the one eval would score. */
export const DEFAULT_TEST_FRACTION: Record<Exclude<SplitName, 'leave-last'>, number> = { random: 0.2, stratified: 0.25, temporal: 0.2 };
export const DEFAULT_SEED = 42;
export const DEFAULT_TRIALS = 20;
export const DEFAULT_VALIDATION_FRACTION = 0.2;

export type Value = number | string | boolean;
/** A continuous range (sampled log-uniformly when `log`) or a list of values to pick from. */
export type Dimension = { kind: 'range'; low: number; high: number; log: boolean } | { kind: 'choice'; values: Value[] };
export type Space = Record<string, Dimension>;

const choice = (...values: Value[]): Dimension => ({ kind: 'choice', values });
const logRange = (low: number, high: number): Dimension => ({ kind: 'range', low, high, log: true });

/**
 * Default spaces, centred on each model's defaults (which were themselves tuned on a validation
 * split of MovieLens): scale parameters span two orders of magnitude log-uniformly, sizes are
 * a few integer choices so fit time stays predictable.
 */
export const DEFAULT_SPACES: Record<TunableAlgorithm, Space> = {
  svd: { factors: choice(32, 64, 150, 256), iterations: choice(20, 40, 60), learningRate: logRange(0.002, 0.03), reg: logRange(0.01, 0.5) },
  als: { factors: choice(16, 32, 64, 128), iterations: choice(5, 10, 15, 25), reg: logRange(0.01, 1), regBias: logRange(0.01, 1) },
  'implicit-als': { factors: choice(16, 32, 64, 128), iterations: choice(5, 10, 15, 25), reg: logRange(1, 500), alpha: logRange(0.5, 50) },
  'item-knn': { neighbors: choice(10, 20, 50, 100, 200, 400), shrink: choice(0, 10, 25, 50, 100) },
  ease: { lambda: logRange(10, 2000) },
};

/** Params the schemas require to be integers: a range over them is rounded, not rejected. */
const INTEGER_PARAMS = new Set(['factors', 'iterations', 'neighbors', 'cgSteps', 'seed']);
/** Continuous ranges become this many points in a grid. */
const GRID_POINTS = 4;

export const defaultMetric = (algorithm: Algorithm): TuneMetric => (isExplicit(algorithm) ? 'rmse' : 'ndcg');
export const lowerIsBetter = (metric: TuneMetric): boolean => metric === 'rmse';

/**
 * Parses a `--space` object: `[low, high]` (two numbers) is a continuous range, log-uniform when
 * both are > 0 and high/low > 10; any other array is a list of choices. Errors name the param;
 * the caller adds the flag.
 */
export function parseSpace(text: string): Space {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`not valid JSON (${(err as Error).message})`, 'space');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError('expected a JSON object of param → [low, high] or [choice, …], e.g. {"reg":[0.01,1],"factors":[32,64]}', 'space');
  }
  const space: Space = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!Array.isArray(value) || value.length === 0) throw new InvalidInputError(`${key} must be a non-empty array: [low, high] or [choice, …]`, 'space');
    if (!value.every((v) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')) {
      throw new InvalidInputError(`${key} may only hold numbers, strings or booleans`, 'space');
    }
    if (value.length === 2 && value.every((v) => typeof v === 'number')) {
      const [low, high] = value as number[];
      if (!(low <= high)) throw new InvalidInputError(`${key} range [${low}, ${high}] must be [low, high] with low ≤ high`, 'space');
      space[key] = { kind: 'range', low, high, log: low > 0 && high / low > 10 };
    } else {
      space[key] = { kind: 'choice', values: value as Value[] };
    }
  }
  return space;
}

/**
 * The algorithm's default space with `override`'s params replaced or added. Every choice and
 * range end is checked against the model's strict schema first, so a typo or an out-of-range
 * value fails before any fitting, with the schema's message naming the param.
 */
export function resolveSpace(algorithm: TunableAlgorithm, override: Space = {}): Space {
  const space = { ...DEFAULT_SPACES[algorithm], ...override };
  for (const [key, dim] of Object.entries(space)) {
    const values = dim.kind === 'choice' ? dim.values : [dim.low, dim.high].map((v) => settle(key, v));
    for (const value of values) createModel(algorithm, { [key]: value });
  }
  return space;
}

/** Integer params are rounded; continuous values keep 3 significant digits, which is all a hyperparameter needs and keeps tables readable. */
function settle(key: string, value: number): number {
  return INTEGER_PARAMS.has(key) ? Math.round(value) : Number(value.toPrecision(3));
}

function sample(space: Space, rng: Rng): Params {
  const params: Params = {};
  for (const [key, dim] of Object.entries(space)) {
    if (dim.kind === 'choice') params[key] = dim.values[rng.int(dim.values.length)];
    else {
      const u = rng.next();
      const x = dim.log ? Math.exp(Math.log(dim.low) + u * (Math.log(dim.high) - Math.log(dim.low))) : dim.low + u * (dim.high - dim.low);
      params[key] = settle(key, x);
    }
  }
  return params;
}

/** The values a grid takes along one dimension: the choices, or GRID_POINTS spaced points of a range. */
function gridValues(key: string, dim: Dimension): Value[] {
  if (dim.kind === 'choice') return dim.values;
  const points = Array.from({ length: GRID_POINTS }, (_, i) => {
    const t = i / (GRID_POINTS - 1);
    return settle(key, dim.log ? dim.low * (dim.high / dim.low) ** t : dim.low + t * (dim.high - dim.low));
  });
  return [...new Set(points)]; // rounding can merge points of a narrow integer range
}

/** Every combination, the last param varying fastest. */
export function gridConfigs(space: Space): Params[] {
  let configs: Params[] = [{}];
  for (const [key, dim] of Object.entries(space)) {
    configs = configs.flatMap((config) => gridValues(key, dim).map((value) => ({ ...config, [key]: value })));
  }
  return configs;
}

/**
 * `trials` random configurations, none repeated: a space of few choices would otherwise spend
 * trials refitting the same model. Stops early when the space has fewer distinct points.
 * `first`, when given, is tried before any draw.
 */
export function randomConfigs(space: Space, trials: number, rng: Rng, first?: Params): Params[] {
  const seen = new Set<string>();
  const configs: Params[] = [];
  const add = (params: Params) => {
    const key = JSON.stringify(params);
    if (seen.has(key)) return;
    seen.add(key);
    configs.push(params);
  };
  if (first) add(first);
  for (let draws = 0; configs.length < trials && draws < trials * 50; draws++) add(sample(space, rng));
  return configs;
}

/**
 * The model's defaults for the space's params, when every one lies inside the space. Random
 * search tries it first, so the search reports a baseline and can only improve on the defaults
 * (on validation).
 */
export function defaultPoint(algorithm: Algorithm, space: Space): Params | undefined {
  const defaults = createModel(algorithm).params as Params;
  const point: Params = {};
  for (const [key, dim] of Object.entries(space)) {
    const value = defaults[key];
    const inside = dim.kind === 'choice' ? dim.values.includes(value) : typeof value === 'number' && value >= dim.low && value <= dim.high;
    if (!inside) return undefined;
    point[key] = value;
  }
  return point;
}

export interface SplitView {
  /** What every trial fits on: train minus validation. */
  fit: RatingRow[];
  validation: RatingRow[];
  /** All of train: what the best configuration is refitted on. */
  train: RatingRow[];
  test: RatingRow[];
}

export interface Trial {
  /** The params this trial set; everything else is the model's default. */
  params: Params;
  /** The validation metric; null when training diverged or there was nothing to score. */
  validation: number | null;
  fitSeconds: number;
  /** Why `validation` is null. */
  error?: string;
}

export interface TuneOptions {
  rows: RatingRow[];
  algorithm: TunableAlgorithm;
  split: SplitName;
  /** Default: what `liverec eval` uses for the split. */
  testFraction?: number;
  /** Rows per user held out by the leave-last split (default 1). */
  leaveN?: number;
  validationFraction?: number;
  search?: Search;
  /** Random search: how many configurations (the model's defaults first, when inside the space). Grid: a cap; the default is the whole grid. */
  trials?: number;
  /** Seeds the test split (as eval's --seed), the validation split, the sampling and the models. */
  seed?: number;
  metric?: TuneMetric;
  k?: number;
  /** Replaces or adds params of the default space. */
  space?: Space;
  /** Sees the splits and the number of planned trials before any fitting: for tests and reports. */
  onSplit?: (split: SplitView, trials: number) => void;
  onTrial?: (trial: Trial, done: number, total: number) => void;
}

export interface TuneResult {
  algorithm: TunableAlgorithm;
  metric: TuneMetric;
  search: Search;
  seed: number;
  sizes: { train: number; fit: number; validation: number; test: number };
  trials: Trial[];
  /** Index into `trials`. */
  bestIndex: number;
  /** Every param the best configuration ran with, defaults included. */
  bestParams: Params;
  /** The best configuration refitted on all of train, scored once on test. */
  test: EvalMetrics;
}

export interface Plan {
  metric: TuneMetric;
  validationFraction: number;
  /** Seeds the validation split; drawn from the same Rng as the configurations. */
  validationSeed: number;
  configs: Params[];
}

/**
 * Everything tune() decides before touching data: the metric, the space and the configurations.
 * Cheap, so a caller can run it before reading a large file to fail fast on a bad option.
 */
export function plan(options: Omit<TuneOptions, 'rows' | 'split' | 'onSplit' | 'onTrial'>): Plan {
  const { algorithm, search = 'random', seed = DEFAULT_SEED } = options;
  if (!(TUNABLE as readonly string[]).includes(algorithm)) {
    throw new InvalidInputError(`cannot tune '${algorithm}': expected one of ${TUNABLE.join(', ')}`, 'algorithm');
  }
  const metric = options.metric ?? defaultMetric(algorithm);
  if (metric === 'rmse' && !isExplicit(algorithm)) {
    throw new InvalidInputError(`metric rmse needs a rating model (als or svd); ${algorithm} ranks, so use ndcg, precision, map or recall`, 'metric');
  }
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new InvalidInputError(`validation fraction must be between 0 and 1 (exclusive), got ${validationFraction}`, 'validationFraction');
  }
  if (!Number.isInteger(seed) || seed < 0) throw new InvalidInputError(`seed must be a non-negative integer, got ${seed}`, 'seed');
  const space = resolveSpace(algorithm, options.space);

  const rng = new Rng(seed);
  const validationSeed = rng.int(0x7fffffff);
  if (search === 'grid') {
    const configs = gridConfigs(space);
    if (options.trials !== undefined && configs.length > options.trials) {
      throw new InvalidInputError(`the grid has ${configs.length} points but only ${options.trials} trials are allowed; narrow the space or allow more trials`, 'trials');
    }
    return { metric, validationFraction, validationSeed, configs };
  }
  const trials = options.trials ?? DEFAULT_TRIALS;
  if (!Number.isInteger(trials) || trials < 1) throw new InvalidInputError(`trials must be a positive integer, got ${trials}`, 'trials');
  return { metric, validationFraction, validationSeed, configs: randomConfigs(space, trials, rng, defaultPoint(algorithm, space)) };
}

export function tune(options: TuneOptions): TuneResult {
  const { rows, algorithm, split, search = 'random', seed = DEFAULT_SEED, k = 10 } = options;
  const { metric, validationFraction, validationSeed, configs } = plan(options);

  const { train, test } = splitBy(split, rows, {
    testFraction: split === 'leave-last' ? undefined : (options.testFraction ?? DEFAULT_TEST_FRACTION[split]),
    seed,
    n: options.leaveN ?? 1,
  });
  if (test.length === 0) throw new InvalidInputError('the test split is empty: there is nothing to report the best model on', 'testFraction');
  // Ranking metrics need every validation user to keep history to rank from; rmse only needs rows.
  const carved = lowerIsBetter(metric) ? randomSplit(train, validationFraction, validationSeed) : stratifiedSplit(train, validationFraction, validationSeed);
  const fit = carved.train;
  const validation = carved.test;
  if (validation.length === 0 || fit.length === 0) {
    throw new InvalidInputError(`the validation split of ${train.length} train rows is empty on one side; change the validation fraction`, 'validationFraction');
  }
  options.onSplit?.({ fit, validation, train, test }, configs.length);

  const trials: Trial[] = [];
  for (const params of configs) {
    trials.push(runTrial({ train: fit, test: validation, algorithm, params: { seed, ...params }, k }, metric, params));
    options.onTrial?.(trials.at(-1)!, trials.length, configs.length);
  }
  const bestIndex = best(trials, metric);
  if (bestIndex < 0) throw new ModelStateError(`every trial failed (first: ${trials[0]?.error ?? 'no trials'}); narrow the space`);

  const final = evaluate({ train, test, algorithm, params: { seed, ...trials[bestIndex].params }, k }).metrics;
  return {
    algorithm,
    metric,
    search,
    seed,
    sizes: { train: train.length, fit: fit.length, validation: validation.length, test: test.length },
    trials,
    bestIndex,
    bestParams: final.params,
    test: final,
  };
}

/**
 * One fit and score. A configuration that diverges (a learning rate too high for its
 * regularization) is a finding about the space, not a reason to abandon the search.
 */
function runTrial(evalOptions: Parameters<typeof evaluate>[0], metric: TuneMetric, params: Params): Trial {
  try {
    const metrics = evaluate(evalOptions).metrics;
    const value = metrics[metric];
    if (value === null || !Number.isFinite(value)) {
      return { params, validation: null, fitSeconds: metrics.fit_seconds, error: `no ${metric}: no validation user had anything to rank` };
    }
    return { params, validation: value, fitSeconds: metrics.fit_seconds };
  } catch (err) {
    if (!(err instanceof ModelStateError)) throw err;
    return { params, validation: null, fitSeconds: 0, error: err.message };
  }
}

/** The index of the best scored trial (the first on ties), or -1 when none scored. */
export function best(trials: Trial[], metric: TuneMetric): number {
  const sign = lowerIsBetter(metric) ? 1 : -1;
  let index = -1;
  trials.forEach((trial, i) => {
    if (trial.validation === null) return;
    if (index < 0 || sign * trial.validation < sign * trials[index].validation!) index = i;
  });
  return index;
}

import { InvalidInputError } from '../errors.ts';
import { Als } from './als.ts';
import { Ease } from './ease.ts';
import { decodeModel, decodeModelSteps } from './format.ts';
import { ImplicitAls } from './implicit-als.ts';
import { ItemKnn } from './item-knn.ts';
import { Popular } from './popular.ts';
import { Svd } from './svd.ts';
import type { Algorithm, ModelOptions, Recommender } from './types.ts';

export type { Algorithm, FitOptions, FitProgress, ModelOptions, Recommender, RecommendOptions, Scored, ScoredUser, Explanation, UserInteraction } from './types.ts';
export { Als, Ease, ImplicitAls, ItemKnn, Popular, Svd };

type Restorable = Recommender & {
  restore(state: ReturnType<typeof decodeModel>): Recommender;
  /** The same in steps, where the model can (factor models): see FactorModel.restoring. */
  restoring?(state: ReturnType<typeof decodeModel>): Generator<void, Recommender>;
};

const constructors: Record<Algorithm, new (params?: Record<string, unknown>, options?: ModelOptions) => Restorable> = {
  als: Als,
  'implicit-als': ImplicitAls,
  svd: Svd,
  'item-knn': ItemKnn,
  popular: Popular,
  ease: Ease,
};

/** Every algorithm `createModel` knows. */
export const ALGORITHMS = Object.keys(constructors) as Algorithm[];

/** Whether the algorithm learns from ratings (explicit) rather than implicit weights. */
export const isExplicit = (algorithm: Algorithm): boolean => algorithm === 'als' || algorithm === 'svd';

/** A new, unfitted model; params are validated against the algorithm's schema. */
export function createModel(algorithm: string, params: Record<string, unknown> = {}, options: ModelOptions = {}): Restorable {
  const ctor = constructors[algorithm as Algorithm];
  if (!ctor) throw new InvalidInputError(`unknown algorithm '${algorithm}': expected one of ${ALGORITHMS.join(', ')}`, 'algorithm');
  return new ctor(params, options);
}

/**
 * `loadModel` in slices of a few milliseconds, other work running between them: for a server
 * swapping in a retrained model without holding its serving thread for the whole load.
 */
export async function loadModelInSlices(bytes: Uint8Array, options: ModelOptions = {}): Promise<Recommender> {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const decoding = decodeModelSteps(bytes);
  let decoded = decoding.next();
  for (; !decoded.done; decoded = decoding.next()) await nextTurn();
  const state = decoded.value;
  const model = createModel(state.algorithm, state.params, options);
  try {
    if (!model.restoring) return model.restore(state);
    const steps = model.restoring(state);
    for (let step = steps.next(); !step.done; step = steps.next()) await nextTurn();
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Reads a model written by `save()`. */
export function loadModel(bytes: Uint8Array, options: ModelOptions = {}): Recommender {
  const state = decodeModel(bytes);
  const model = createModel(state.algorithm, state.params, options);
  try {
    return model.restore(state);
  } catch (error) {
    model.dispose(); // an unreadable file must not keep a banked core out of circulation
    throw error;
  }
}

import { Interactions } from '../data/interactions.ts';
import { createModel } from '../model/index.ts';
import type { TrainingSet } from './training-set.ts';

export interface FitRequest {
  algorithm: string;
  params: Record<string, unknown>;
  set: TrainingSet;
}

export interface FitResult {
  bytes: Uint8Array;
  seconds: number;
}

/** Fits a fresh model on a training set and returns it saved; runs inside the training thread. */
export function runFit({ algorithm, params, set }: FitRequest): FitResult {
  const start = performance.now();
  const data = Interactions.fromArrays(set.users, set.items, set.userIdx, set.itemIdx, set.values);
  const model = createModel(algorithm, params).fit(data);
  return { bytes: model.save(), seconds: (performance.now() - start) / 1000 };
}

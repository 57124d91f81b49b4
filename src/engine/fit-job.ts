import { Interactions } from '../data/interactions.ts';
import { createModel } from '../model/index.ts';
import type { CoreBank } from '../wasm/core-bank.ts';
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

/**
 * Fits a fresh model on a training set and returns it saved; runs inside the training thread.
 * The model is disposed once saved, its core given back to `cores` for the next fit: a training
 * thread lives as long as the engine, and without reuse every fit's WebAssembly memory would
 * wait for a GC that an idle thread never runs.
 */
export function runFit({ algorithm, params, set }: FitRequest, cores?: CoreBank): FitResult {
  const start = performance.now();
  const data = Interactions.fromArrays(set.users, set.items, set.userIdx, set.itemIdx, set.values);
  const model = createModel(algorithm, params, { cores });
  try {
    model.fit(data);
    return { bytes: model.save(), seconds: (performance.now() - start) / 1000 };
  } finally {
    model.dispose();
  }
}

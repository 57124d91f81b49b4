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
 * Where a fit is: `fitting` counts the model's steps (`done` of `total`, see each algorithm's
 * `fit`); `saving` follows the last step, with done = total.
 */
export interface FitProgress {
  phase: 'fitting' | 'saving';
  done: number;
  total: number;
}

/** Runs fits somewhere (the Trainer: on a worker thread), reporting progress as they go. */
export interface FitRunner {
  fit(request: FitRequest, onProgress?: (progress: FitProgress) => void): Promise<FitResult>;
  close(): Promise<void>;
}

/**
 * Fits a fresh model on a training set and returns it saved; runs inside the training thread.
 * The model is disposed once saved, its core given back to `cores` for the next fit: a training
 * thread lives as long as the engine, and without reuse every fit's WebAssembly memory would
 * wait for a GC that an idle thread never runs.
 */
export function runFit({ algorithm, params, set }: FitRequest, cores?: CoreBank, onProgress?: (progress: FitProgress) => void): FitResult {
  const start = performance.now();
  const data = Interactions.fromArrays(set.users, set.items, set.userIdx, set.itemIdx, set.values);
  const model = createModel(algorithm, params, { cores });
  try {
    let total = 1;
    const fitting = (p: { done: number; total: number }) => {
      total = p.total;
      onProgress!({ phase: 'fitting', ...p });
    };
    model.fit(data, { onProgress: onProgress && fitting });
    onProgress?.({ phase: 'saving', done: total, total });
    return { bytes: model.save(), seconds: (performance.now() - start) / 1000 };
  } finally {
    model.dispose();
  }
}

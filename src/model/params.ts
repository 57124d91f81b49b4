import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';

export type Params = Record<string, number | string | boolean>;

/** Common schema pieces so every algorithm states its rules the same way. */
export const factors = (d: number) => z.number().int().min(1, 'factors must be at least 1').max(1024).default(d);
export const iterations = (d: number) => z.number().int().min(1, 'iterations must be at least 1').max(10_000).default(d);
export const nonNegative = (d: number) => z.number().min(0).finite().default(d);
export const positive = (d: number) => z.number().positive().finite().default(d);
export const seed = () => z.number().int().min(0).default(42);
/**
 * Training threads: the calling thread plus threads − 1 workers over the same WebAssembly memory,
 * used by `fitAsync` (`fit` always runs on the calling thread, same schedule). Default 1, the
 * single-thread path. ALS, implicit ALS and item-kNN give bit-identical models for any value;
 * SVD's blocked SGD schedule depends on it (deterministic per seed and thread count).
 */
export const threads = () => z.number().int().min(1, 'threads must be at least 1').max(64).default(1);

/** Validates user-supplied params against a schema, naming the offending field on failure. */
export function parseParams<S extends z.ZodType>(schema: S, given: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(given);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || 'params';
    throw new InvalidInputError(`invalid parameter '${field}': ${issue.message}`, field);
  }
  return result.data;
}

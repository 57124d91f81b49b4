import type { FitOptions } from './types.ts';

/**
 * Counts a fit's steps for `onProgress`: reports done = 0 now and returns the callback a schedule
 * runner calls after each step (undefined without a listener, so a plain fit pays nothing).
 */
export function stepCounter(total: number, onProgress: FitOptions['onProgress']): (() => void) | undefined {
  if (!onProgress) return undefined;
  let done = 0;
  onProgress({ done, total });
  return () => onProgress({ done: Math.min(++done, total), total });
}

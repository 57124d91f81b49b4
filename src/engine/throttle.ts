import type { FitProgress } from './fit-job.ts';

/** At most this many milliseconds between two progress messages of the same phase (≤ 10 a second). */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Thins a fit's progress reports before they cross to another thread: the first report of each
 * phase and the last step (done = total) always pass, the steps between at most one per
 * `intervalMs`, so a fit of thousands of tiny steps posts a handful of messages, not thousands.
 */
export function throttleProgress(
  send: (progress: FitProgress) => void,
  intervalMs = PROGRESS_INTERVAL_MS,
  now: () => number = () => performance.now(),
): (progress: FitProgress) => void {
  let phase: FitProgress['phase'] | null = null;
  let last = -Infinity;
  return (progress) => {
    const t = now();
    const due = progress.phase !== phase || progress.done >= progress.total || t - last >= intervalMs;
    if (!due) return;
    phase = progress.phase;
    last = t;
    send(progress);
  };
}

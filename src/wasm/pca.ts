import type { Core } from './core.ts';

interface PcaExports {
  covariance(points: number, n: number, k: number, mean: number, out: number): void;
  project(points: number, n: number, k: number, mean: number, components: number, m: number, out: number): void;
}

const api = (core: Core) => core.exports as unknown as PcaExports;

/**
 * Writes the column means of the n points (rows of k f32) to `mean` (k f32), then their sample
 * covariance (divisor n − 1; zero when n = 1) to `out` (k×k f32, both triangles).
 */
export function covariance(core: Core, points: number, n: number, k: number, mean: number, out: number): void {
  api(core).covariance(points, n, k, mean, out);
}

/** out (n×m f32) [i·m + j] = (point i − mean) · row j of `components` (m rows of k f32). */
export function project(
  core: Core, points: number, n: number, k: number, mean: number, components: number, m: number, out: number,
): void {
  api(core).project(points, n, k, mean, components, m, out);
}

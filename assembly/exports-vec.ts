import { dot } from './vec';

/** Exposed so the host can test the SIMD dot product against a scalar reference. */
export function vecDot(a: usize, b: usize, k: i32): f32 {
  return dot(a, b, k);
}

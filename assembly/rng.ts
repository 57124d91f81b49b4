// PCG32 (XSH-RR): 8 bytes of state, good statistical quality, and a fixed algorithm so a seed
// reproduces a shuffle bit for bit on every platform. The state lives in host memory (a u64 at
// a pointer) rather than in a module global, so the host owns it: it seeds it, can save it with
// a model, and each worker thread gets its own stream by owning its own 8 bytes.

const MULT: u64 = 6364136223846793005;
// Any odd increment works; one fixed stream per seed is all the shuffles need.
const INC: u64 = 1442695040888963407;

/** Seeds the 8-byte state at `state` the way pcg32_srandom does (so nearby seeds diverge at once). */
export function rngSeed(state: usize, seed: u32): void {
  store<u64>(state, 0);
  rngNext(state);
  store<u64>(state, load<u64>(state) + <u64>seed);
  rngNext(state);
}

/** Next uniform u32 from the generator whose state is at `state`. */
@inline
export function rngNext(state: usize): u32 {
  const old = load<u64>(state);
  store<u64>(state, old * MULT + INC);
  const xorshifted = <u32>(((old >> 18) ^ old) >> 27);
  const rot = <u32>(old >> 59);
  return rotr<u32>(xorshifted, rot);
}

/**
 * Uniform integer in [0, n) for n ≥ 1, without modulo bias (Lemire's multiply-shift with
 * rejection): Fisher–Yates is only a uniform shuffle if every draw is exactly uniform.
 */
@inline
export function rngBelow(state: usize, n: u32): u32 {
  let m = <u64>rngNext(state) * <u64>n;
  let low = <u32>m;
  if (low < n) {
    // 2^32 mod n: draws whose low word falls below it are the over-represented ones.
    const threshold: u32 = (<u32>0 - n) % n;
    while (low < threshold) {
      m = <u64>rngNext(state) * <u64>n;
      low = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

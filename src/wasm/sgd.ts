import type { Core } from './core.ts';

interface SgdExports {
  rngSeed(state: number, seed: number): void;
  shuffle(order: number, n: number, rngState: number): void;
  sgdEpoch(
    users: number, items: number, values: number, order: number, start: number, end: number, mean: number,
    userFactors: number, itemFactors: number, userBias: number, itemBias: number,
    k: number, lr: number, regFactor: number, regBias: number,
  ): number;
}

const api = (core: Core) => core.exports as unknown as SgdExports;

/** Bytes of one PCG32 generator state (a u64). */
export const RNG_STATE_BYTES = 8;

/** Seeds the generator state at `state` (RNG_STATE_BYTES, host-allocated); seed is a u32. */
export function rngSeed(core: Core, state: number, seed: number): void {
  api(core).rngSeed(state, seed >>> 0);
}

/** Allocates and seeds a generator state; returns its address. */
export function allocRng(core: Core, seed: number): number {
  const state = core.alloc(RNG_STATE_BYTES);
  rngSeed(core, state, seed);
  return state;
}

/** Fisher–Yates shuffle of the n i32s at `order`, advancing the generator at `rngState`. */
export function shuffle(core: Core, order: number, n: number, rngState: number): void {
  api(core).shuffle(order, n, rngState);
}

/**
 * One SGD pass of biased MF over ratings order[start..end): users/items are i32 dense indices,
 * values f32, factors row-major f32 with stride k. Updates factors and biases in place and
 * returns the sum of squared errors seen (errors measured before each update).
 */
export function sgdEpoch(
  core: Core, users: number, items: number, values: number, order: number, start: number, end: number, mean: number,
  userFactors: number, itemFactors: number, userBias: number, itemBias: number,
  k: number, lr: number, regFactor: number, regBias: number,
): number {
  return api(core).sgdEpoch(
    users, items, values, order, start, end, mean, userFactors, itemFactors, userBias, itemBias, k, lr, regFactor, regBias,
  );
}

/** Plain TypeScript (float64) references for the SGD kernels. */

export interface SgdModel {
  userFactors: Float64Array;
  itemFactors: Float64Array;
  userBias: Float64Array;
  itemBias: Float64Array;
}

export interface SgdParams {
  mean: number;
  k: number;
  lr: number;
  regFactor: number;
  regBias: number;
}

/**
 * Surprise's SVD epoch, update by update, over ratings order[start..end). Mutates `model` and
 * returns Σ e² with e measured before each update.
 */
export function sgdEpochRef(
  users: ArrayLike<number>, items: ArrayLike<number>, values: ArrayLike<number>, order: ArrayLike<number>,
  start: number, end: number, model: SgdModel, p: SgdParams,
): number {
  const { userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi } = model;
  const { mean, k, lr, regFactor, regBias } = p;
  let sse = 0;
  for (let t = start; t < end; t++) {
    const r = order[t];
    const u = users[r];
    const i = items[r];
    let d = 0;
    for (let f = 0; f < k; f++) d += P[u * k + f] * Q[i * k + f];
    const e = values[r] - (mean + bu[u] + bi[i] + d);
    sse += e * e;
    bu[u] += lr * (e - regBias * bu[u]);
    bi[i] += lr * (e - regBias * bi[i]);
    for (let f = 0; f < k; f++) {
      const puf = P[u * k + f];
      const qif = Q[i * k + f];
      P[u * k + f] += lr * (e * qif - regFactor * puf);
      Q[i * k + f] += lr * (e * puf - regFactor * qif);
    }
  }
  return sse;
}

const MASK64 = (1n << 64n) - 1n;
const MULT = 6364136223846793005n;
const INC = 1442695040888963407n;

/** PCG32 (XSH-RR) with pcg32_srandom seeding, in BigInt: the generator the core implements. */
export class Pcg32Ref {
  private state = 0n;

  constructor(seed: number) {
    this.next();
    this.state = (this.state + BigInt(seed >>> 0)) & MASK64;
    this.next();
  }

  next(): number {
    const old = this.state;
    this.state = (old * MULT + INC) & MASK64;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /** Uniform in [0, n): Lemire's multiply-shift with rejection. */
  below(n: number): number {
    let m = BigInt(this.next()) * BigInt(n);
    let low = Number(m & 0xffffffffn);
    if (low < n) {
      const threshold = 2 ** 32 % n;
      while (low < threshold) {
        m = BigInt(this.next()) * BigInt(n);
        low = Number(m & 0xffffffffn);
      }
    }
    return Number(m >> 32n);
  }
}

/** Fisher–Yates with Pcg32Ref, the same draws as the core's shuffle. */
export function shuffleRef(order: Int32Array, rng: Pcg32Ref): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}

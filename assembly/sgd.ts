// Stochastic gradient descent for biased matrix factorisation ("SVD" in Surprise):
//   r̂ = mean + b_u + b_i + p_u·q_i
// The host keeps the ratings as three parallel arrays (users, items: i32 dense indices; values:
// f32) and an i32 `order` of rating indices it reshuffles each epoch with `shuffle`.
import { rngBelow } from './rng';
import { dot, f32At, i32At, setF32, setI32 } from './vec';

/** Fisher–Yates over the n i32s at `order`, drawing from the PCG state at `rngState`. */
export function shuffle(order: usize, n: i32, rngState: usize): void {
  for (let i = n - 1; i > 0; i--) {
    const j = <i32>rngBelow(rngState, <u32>(i + 1));
    const tmp = i32At(order, i);
    setI32(order, i, i32At(order, j));
    setI32(order, j, tmp);
  }
}

/**
 * One pass of SGD over ratings order[start..end). Updates biases and factor rows in place and
 * returns Σ e² (f64, so a long epoch does not lose the small errors) for the host's training RMSE.
 * Taking a [start, end) slice lets the host split an epoch into chunks (progress, time slicing).
 */
export function sgdEpoch(
  users: usize,
  items: usize,
  values: usize,
  order: usize,
  start: i32,
  end: i32,
  mean: f32,
  userFactors: usize,
  itemFactors: usize,
  userBias: usize,
  itemBias: usize,
  k: i32,
  lr: f32,
  regFactor: f32,
  regBias: f32,
): f64 {
  const stride = <usize>k << 2;
  let sse: f64 = 0;
  for (let t = start; t < end; t++) {
    const r = i32At(order, t);
    const u = i32At(users, r);
    const i = i32At(items, r);
    const p = userFactors + <usize>u * stride;
    const q = itemFactors + <usize>i * stride;
    const bu = f32At(userBias, u);
    const bi = f32At(itemBias, i);
    const e = f32At(values, r) - (mean + bu + bi + dot(p, q, k));
    sse += <f64>e * <f64>e;
    setF32(userBias, u, bu + lr * (e - regBias * bu));
    setF32(itemBias, i, bi + lr * (e - regBias * bi));
    step(p, q, lr * e, 1 - lr * regFactor, k);
  }
  return sse;
}

/**
 * p ← decay·p + g·q and q ← decay·q + g·p_old in one pass, which is
 * p + lr(e·q − reg·p) and q + lr(e·p_old − reg·q) rearranged: both updates read the old rows
 * before either is written (Surprise's order), and the rows are touched once instead of twice.
 */
@inline
function step(p: usize, q: usize, g: f32, decay: f32, k: i32): void {
  const vg = f32x4.splat(g);
  const vd = f32x4.splat(decay);
  let f = 0;
  for (; f + 4 <= k; f += 4) {
    const off = <usize>f << 2;
    const pv = v128.load(p + off);
    const qv = v128.load(q + off);
    v128.store(p + off, f32x4.add(f32x4.mul(vd, pv), f32x4.mul(vg, qv)));
    v128.store(q + off, f32x4.add(f32x4.mul(vd, qv), f32x4.mul(vg, pv)));
  }
  for (; f < k; f++) {
    const off = <usize>f << 2;
    const pf = load<f32>(p + off);
    const qf = load<f32>(q + off);
    store<f32>(p + off, decay * pf + g * qf);
    store<f32>(q + off, decay * qf + g * pf);
  }
}

// Dense f32 vector primitives shared by every kernel. Pointers are byte addresses into the
// host-owned memory; lengths are element counts. v128 does four lanes at a time and a scalar
// tail finishes any k that is not a multiple of four.

/** Σ a[i]·b[i] over k floats. */
@inline
export function dot(a: usize, b: usize, k: i32): f32 {
  // Four independent accumulators over 16-float blocks: with one, every add waits for the
  // previous one (latency-bound); with four, the multiply-adds of a block overlap.
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= k; i += 16) {
    const pa = a + (<usize>i << 2);
    const pb = b + (<usize>i << 2);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pa), v128.load(pb)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pa, 16), v128.load(pb, 16)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pa, 32), v128.load(pb, 32)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(pa, 48), v128.load(pb, 48)));
  }
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  }
  const acc = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < k; i++) {
    const off = <usize>i << 2;
    sum += load<f32>(a + off) * load<f32>(b + off);
  }
  return sum;
}

/** y += alpha · x over k floats. */
@inline
export function axpy(alpha: f32, x: usize, y: usize, k: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, f32x4.add(v128.load(y + off), f32x4.mul(va, v128.load(x + off))));
  }
  for (; i < k; i++) {
    const off = <usize>i << 2;
    store<f32>(y + off, load<f32>(y + off) + alpha * load<f32>(x + off));
  }
}

/** x *= alpha over k floats. */
@inline
export function scale(alpha: f32, x: usize, k: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const off = <usize>i << 2;
    v128.store(x + off, f32x4.mul(va, v128.load(x + off)));
  }
  for (; i < k; i++) {
    const off = <usize>i << 2;
    store<f32>(x + off, alpha * load<f32>(x + off));
  }
}

/** Sets k floats to zero. */
@inline
export function zero(x: usize, k: i32): void {
  memory.fill(x, 0, <usize>k << 2);
}

@inline
export function f32At(base: usize, i: i32): f32 {
  return load<f32>(base + (<usize>i << 2));
}

@inline
export function setF32(base: usize, i: i32, v: f32): void {
  store<f32>(base + (<usize>i << 2), v);
}

@inline
export function i32At(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}

@inline
export function setI32(base: usize, i: i32, v: i32): void {
  store<i32>(base + (<usize>i << 2), v);
}

import { Worker } from 'node:worker_threads';
import type { Core } from './core.ts';
import { wasmModule } from './module.ts';

const WORKER_URL = new URL('./pool-worker.mjs', import.meta.url);

/** One kernel call: an export of the core by name, with numeric arguments (addresses, sizes, scalars). */
export interface Call {
  fn: string;
  args: number[];
}

/**
 * A training loop written once for one thread or many: it yields one step at a time — a batch of
 * calls per thread, which may run in parallel and must touch disjoint memory — and receives each
 * batch's results back. Host-side work between steps (allocation, a gram matrix, bookkeeping)
 * runs in the generator itself, on the calling thread. `runInline` and `runThreaded` drive it.
 */
export type Schedule = Generator<Call[][], void, number[][]>;

/**
 * N threads over one `Core`'s shared memory: the calling thread plus N − 1 workers, each with
 * its own instance of the same compiled module over the same `WebAssembly.Memory`. Workers never
 * allocate; the host lays out every buffer (including one scratch block per thread) before a run.
 *
 * Workers are unref'd whenever they are idle, so an open pool never keeps a process alive; while a
 * run is in flight they are ref'd (a CLI awaiting a fit must not exit under it). `close()` ends them.
 *
 * Dispatch is plain postMessage: a round trip measured 25–40 µs (Atomics.wait/notify on a control
 * word: ~10 µs), noise next to steps of milliseconds, and it needs no control block or spinning.
 */
export class CorePool {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly pending: Array<{ resolve(results: number[]): void; reject(error: Error): void } | null>;
  private failure: Error | null = null;
  private busy = false;
  private closed = false;

  constructor(private readonly core: Core, threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.pending = new Array(threads - 1).fill(null);
    const workerData = { module: wasmModule(), memory: core.memory };
    this.workers = Array.from({ length: threads - 1 }, (_, t) => {
      const worker = new Worker(WORKER_URL, { workerData });
      worker.unref();
      worker.on('message', (msg: { ok: boolean; results?: number[]; message?: string }) => {
        const slot = this.settle(t);
        if (msg.ok) slot?.resolve(msg.results!);
        else slot?.reject(new Error(msg.message));
      });
      worker.on('error', (error: Error) => {
        this.failure ??= error;
        this.settle(t)?.reject(error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`CorePool worker ${t + 1} exited (code ${code})`);
        if (!this.closed) this.failure ??= error;
        this.settle(t)?.reject(error);
      });
      return worker;
    });
  }

  /**
   * Runs one call per thread in parallel: calls[0] on the calling thread, the rest on workers.
   * Resolves with each call's return value (void → 0, booleans → 0/1).
   */
  async run(calls: Call[]): Promise<number[]> {
    const results = await this.runBatches(calls.map((call) => [call]));
    return results.map((r) => r[0]);
  }

  /**
   * Runs one batch of calls per thread in parallel, each batch in order (batches[0] on the calling
   * thread). Settles only after every thread has finished, so scratch can be freed afterwards even
   * when a call failed; then rejects with the first error.
   */
  async runBatches(batches: Call[][]): Promise<number[][]> {
    if (this.closed) throw new Error('CorePool is closed');
    if (this.failure) throw this.failure;
    if (this.busy) throw new Error('CorePool is busy: one run at a time');
    if (batches.length > this.threads) throw new RangeError(`${batches.length} batches for a pool of ${this.threads} threads`);
    this.busy = true;
    try {
      const remote = batches.slice(1).map((calls, t) => (calls.length ? this.post(t, calls) : Promise.resolve([])));
      let local: number[] = [];
      let localError: unknown = null;
      try {
        local = runCalls(this.core, batches[0] ?? []);
      } catch (error) {
        localError = error;
      }
      const settled = await Promise.allSettled(remote);
      if (localError) throw localError;
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return [local, ...settled.map((s) => (s as PromiseFulfilledResult<number[]>).value)];
    } finally {
      this.busy = false;
    }
  }

  /** Terminates the workers; a run in flight rejects. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private post(t: number, calls: Call[]): Promise<number[]> {
    const worker = this.workers[t];
    return new Promise((resolve, reject) => {
      this.pending[t] = { resolve, reject };
      worker.ref();
      worker.postMessage(calls);
    });
  }

  /** Clears worker t's pending slot (unref'ing it: it is idle again) and returns it. */
  private settle(t: number) {
    const slot = this.pending[t];
    this.pending[t] = null;
    if (slot) this.workers[t].unref();
    return slot;
  }
}

/**
 * Runs a kernel whose rows are independent over rows [0, rows): `call(from, to)` makes the call
 * for one range; the ranges split the rows evenly, one per thread of `pool`, or one call on the
 * calling thread without a pool.
 */
export async function runOverRows(core: Core, pool: CorePool | null, rows: number, call: (from: number, to: number) => Call): Promise<void> {
  const threads = pool?.threads ?? 1;
  const calls = Array.from({ length: threads }, (_, t) => call(Math.floor((rows * t) / threads), Math.floor((rows * (t + 1)) / threads)));
  if (pool) await pool.run(calls);
  else runCalls(core, calls);
}

/** Runs calls in order on `core` (the calling thread). */
function runCalls(core: Core, calls: Call[]): number[] {
  return calls.map(({ fn, args }) => {
    const f = core.exports[fn];
    if (typeof f !== 'function') throw new Error(`WebAssembly core has no export '${fn}'`);
    return Number((f as (...a: number[]) => unknown)(...args) ?? 0);
  });
}

/**
 * Drives a schedule on the calling thread alone: every step's batches run one after another.
 * `onStep` is called after each step (progress reporting).
 */
export function runInline(core: Core, schedule: Schedule, onStep?: () => void): void {
  try {
    let step = schedule.next();
    while (!step.done) {
      const results = step.value.map((calls) => runCalls(core, calls));
      onStep?.();
      step = schedule.next(results);
    }
  } catch (error) {
    schedule.return(); // runs the schedule's finally blocks (scratch release)
    throw error;
  }
}

/**
 * Drives a schedule on a pool of `threads` threads, started for this run and closed after it.
 * `start` is called once the workers are booting, so host-side setup (laying out the model)
 * overlaps their start-up. With threads = 1 no worker is started and this is `runInline`.
 * `onStep` is called after each step, once every thread has finished it.
 */
export async function runThreaded(core: Core, threads: number, start: () => Schedule, onStep?: () => void): Promise<void> {
  if (threads <= 1) return runInline(core, start(), onStep);
  const pool = new CorePool(core, threads);
  try {
    const schedule = start();
    try {
      let step = schedule.next();
      while (!step.done) {
        const results = await pool.runBatches(step.value);
        onStep?.();
        step = schedule.next(results);
      }
    } catch (error) {
      schedule.return(); // runs the schedule's finally blocks (scratch release)
      throw error;
    }
  } finally {
    await pool.close();
  }
}

/**
 * Splits rows [0, rows) into `parts` contiguous ranges of about equal cost, where row r costs
 * cost(indptr[r+1] − indptr[r]) — its non-zeros plus whatever per-row work the kernel does.
 * Returns parts + 1 boundaries (first 0, last rows); ranges may be empty.
 */
export function splitRows(indptr: ArrayLike<number>, parts: number, cost: (nnz: number) => number = (n) => n): number[] {
  const rows = indptr.length - 1;
  const costs = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) total += costs[r] = cost(indptr[r + 1] - indptr[r]);
  const bounds = [0];
  let acc = 0;
  let r = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    // Take the row that crosses the target only if that leaves this part closer to it.
    while (r < rows && acc + costs[r] / 2 <= target) acc += costs[r++];
    bounds.push(r);
  }
  bounds.push(rows);
  return bounds;
}

/** Chunks per thread when rows are dealt out by `shareRows`. */
export const CHUNKS_PER_THREAD = 8;

/**
 * Deals rows [0, rows) to `threads` threads: splitRows into threads × chunks contiguous chunks
 * of about equal cost, thread t taking chunks t, t + threads, t + 2·threads, … so that work the
 * cost model misjudges in one region of the index space (ids in order of first appearance make
 * the head of power-law data cluster) lands on every thread alike. Returns each thread's [start,
 * end) ranges; with one thread, the single range [0, rows).
 */
export function shareRows(
  indptr: ArrayLike<number>, threads: number, cost?: (nnz: number) => number, chunks = CHUNKS_PER_THREAD,
): Array<Array<[number, number]>> {
  if (threads <= 1) return [[[0, indptr.length - 1]]];
  const bounds = splitRows(indptr, threads * chunks, cost);
  return Array.from({ length: threads }, (_, t) => {
    const ranges: Array<[number, number]> = [];
    for (let c = t; c < threads * chunks; c += threads) if (bounds[c + 1] > bounds[c]) ranges.push([bounds[c], bounds[c + 1]]);
    return ranges;
  });
}

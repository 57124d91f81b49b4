import { wasmModule } from './module.ts';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 ceiling; must match asconfig's maximumMemory
const ALIGN = 16; // v128 width: keeps every buffer SIMD-friendly

/**
 * The raw exports of the WebAssembly core. Each kernel module in `src/wasm/` declares the
 * slice it calls; this is the common part.
 */
export interface CoreExports {
  heapBase(): number;
  [name: string]: unknown;
}

/**
 * One instance of the WebAssembly core over a host-owned, shared `WebAssembly.Memory`.
 *
 * The host lays out every buffer with a bump allocator (`alloc`) — the core never allocates —
 * so worker threads can instantiate the same module over the same memory and work on disjoint
 * rows. Typed views are made on demand from `memory.buffer`, never cached, because the buffer
 * object is replaced when memory grows.
 */
/** Every constructed core's memory, until it is garbage-collected (for leak checks). */
const live = new Map<number, WeakRef<WebAssembly.Memory>>();
const collected = new FinalizationRegistry<number>((id) => live.delete(id));
let nextId = 0;

/** Cores constructed in this thread so far (monotonic): a test sees whether a path makes new ones. */
export function coresCreated(): number {
  return nextId;
}

/**
 * How many cores are still reachable in this thread and the bytes of WebAssembly memory they
 * hold (a count of live models: each model owns one core). Collected cores drop out after a GC.
 */
export function liveCores(): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const ref of live.values()) {
    const memory = ref.deref();
    if (!memory) continue;
    count++;
    bytes += memory.buffer.byteLength;
  }
  return { count, bytes };
}

export class Core {
  readonly memory: WebAssembly.Memory;
  readonly exports: CoreExports;
  private readonly base: number;
  private top: number;
  /** The highest `top` reached since construction or the last reset: what `reset` must clear. */
  private highWater: number;

  constructor(memory?: WebAssembly.Memory) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(wasmModule(), {
      env: { memory: this.memory, abort: coreAbort },
    });
    this.exports = instance.exports as unknown as CoreExports;
    this.base = this.top = this.highWater = alignUp(this.exports.heapBase());
    const id = nextId++;
    live.set(id, new WeakRef(this.memory));
    collected.register(this.memory, id);
  }

  /** Reserves `bytes` (16-byte aligned, zero-filled on first use) and returns its address. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = alignUp(ptr + Math.max(bytes, 0));
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      // Grow by at least a quarter of the current size so repeated small allocations stay cheap.
      const grow = Math.min(Math.max(pages, Math.ceil(current / 4)), MAX_PAGES - current);
      if (grow < pages) throw new RangeError(`WebAssembly memory exhausted: ${end} bytes needed, 4 GiB is the limit`);
      this.memory.grow(grow);
    }
    this.top = end;
    if (end > this.highWater) this.highWater = end;
    return ptr;
  }

  allocF32(length: number): number {
    return this.alloc(length * 4);
  }

  allocI32(length: number): number {
    return this.alloc(length * 4);
  }

  /** Copies `values` into fresh memory and returns its address. */
  putF32(values: ArrayLike<number>): number {
    const ptr = this.allocF32(values.length);
    this.f32(ptr, values.length).set(values);
    return ptr;
  }

  putI32(values: ArrayLike<number>): number {
    const ptr = this.allocI32(values.length);
    this.i32(ptr, values.length).set(values);
    return ptr;
  }

  /** The current allocation point; `release(mark)` frees everything allocated after it. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark` (scratch space for one call). */
  release(mark: number): void {
    this.top = mark;
  }

  /**
   * Forgets every allocation, so the next owner lays out its buffers from the start of the heap,
   * and zeroes what was used, so it sees the same memory a new core would. The memory keeps its
   * size: WebAssembly memory cannot shrink, and a wasm memory is only freed by a GC that V8 is
   * not prompted to run by it (its pages are not counted as external memory). Reusing one is the
   * way to keep a long-running process at a bounded size; see CoreBank. Every address handed out
   * before is invalid afterwards.
   */
  reset(): void {
    while (!this.resetStep(Infinity));
  }

  /**
   * `reset` a slice at a time, from the top of the used memory down: zeroes at most `maxBytes`
   * and returns true once the whole core is reset (a long-lived process resets a retired model's
   * tens of megabytes between requests rather than in one). Nothing may use the core until then.
   */
  resetStep(maxBytes: number): boolean {
    const start = Math.max(this.base, this.highWater - maxBytes);
    this.u8(start, this.highWater - start).fill(0);
    this.highWater = start;
    if (start > this.base) return false;
    this.top = this.base;
    return true;
  }

  /** Bytes in use by the allocator. */
  get used(): number {
    return this.top;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
}

function alignUp(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

function coreAbort(_msg: number, _file: number, line: number, column: number): never {
  throw new Error(`WebAssembly core aborted at ${line}:${column}`);
}

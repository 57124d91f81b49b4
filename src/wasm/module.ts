import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:wasm` writes the compiled core. */
export const WASM_PATH = fileURLToPath(new URL('../../build/liverec.wasm', import.meta.url));
/**
 * The same core built with relaxed SIMD: kernels that opt in (EASE's sweep) use fused
 * multiply-add, about twice the throughput. Used when the runtime validates it — Node ≥ 22, or
 * Node 20 with --experimental-wasm-relaxed-simd — else the baseline build is.
 */
export const RELAXED_WASM_PATH = fileURLToPath(new URL('../../build/liverec-relaxed.wasm', import.meta.url));

let compiled: WebAssembly.Module | null = null;
let build: 'relaxed-simd' | 'baseline' = 'baseline';

/** The compiled core, compiled once per process (and shareable with worker threads). */
export function wasmModule(): WebAssembly.Module {
  if (compiled) return compiled;
  if (!existsSync(WASM_PATH)) {
    throw new Error(`WebAssembly core not built: ${WASM_PATH} is missing; run \`npm run build:wasm\``);
  }
  const relaxed = existsSync(RELAXED_WASM_PATH) ? readFileSync(RELAXED_WASM_PATH) : null;
  build = relaxed && WebAssembly.validate(relaxed) ? 'relaxed-simd' : 'baseline';
  compiled = new WebAssembly.Module(build === 'relaxed-simd' ? relaxed! : readFileSync(WASM_PATH));
  return compiled;
}

/** Which build of the core this process runs (for benchmark reports). */
export function coreBuild(): 'relaxed-simd' | 'baseline' {
  wasmModule();
  return build;
}

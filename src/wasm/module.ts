import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:wasm` writes the compiled core. */
export const WASM_PATH = fileURLToPath(new URL('../../build/liverec.wasm', import.meta.url));

let compiled: WebAssembly.Module | null = null;

/** The compiled core, compiled once per process (and shareable with worker threads). */
export function wasmModule(): WebAssembly.Module {
  if (compiled) return compiled;
  if (!existsSync(WASM_PATH)) {
    throw new Error(`WebAssembly core not built: ${WASM_PATH} is missing; run \`npm run build:wasm\``);
  }
  compiled = new WebAssembly.Module(readFileSync(WASM_PATH));
  return compiled;
}

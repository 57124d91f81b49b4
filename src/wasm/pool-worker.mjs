// Worker entry of CorePool (src/wasm/pool.ts). Plain JavaScript on purpose: it imports nothing
// but node:worker_threads, so it starts in a few milliseconds and needs no tsx loader.
//
// It instantiates the compiled core over the host's shared memory and then runs whatever calls
// the host posts, in order: [{ fn, args }] → { ok: true, results } | { ok: false, message }.
// It never allocates: every address it is given was laid out by the host.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory } = workerData;

function abort(_msg, _file, line, column) {
  throw new Error(`WebAssembly core aborted at ${line}:${column}`);
}

const exports = new WebAssembly.Instance(module, { env: { memory, abort } }).exports;

parentPort.on('message', (calls) => {
  try {
    const results = calls.map(({ fn, args }) => {
      const f = exports[fn];
      if (typeof f !== 'function') throw new Error(`WebAssembly core has no export '${fn}'`);
      return Number(f(...args) ?? 0);
    });
    parentPort.postMessage({ ok: true, results });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});

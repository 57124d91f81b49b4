import { parentPort } from 'node:worker_threads';
import { CoreBank } from '../wasm/core-bank.ts';
import { runFit, type FitRequest } from './fit-job.ts';

/** One core for every fit this thread runs (one at a time): memory stays at the largest fit's size. */
const cores = new CoreBank(1);

// One fit per message; the model comes back as bytes, transferred rather than copied.
parentPort!.on('message', (request: FitRequest) => {
  try {
    const result = runFit(request, cores);
    parentPort!.postMessage({ ok: true, ...result }, [result.bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: (error as Error).message });
  }
});

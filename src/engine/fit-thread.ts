import { parentPort } from 'node:worker_threads';
import { CoreBank } from '../wasm/core-bank.ts';
import { runFit, type FitRequest } from './fit-job.ts';
import { throttleProgress } from './throttle.ts';

/** One core for every fit this thread runs (one at a time): memory stays at the largest fit's size. */
const cores = new CoreBank(1);

// One fit per message: throttled progress messages while it runs, then the model as bytes,
// transferred rather than copied.
parentPort!.on('message', (request: FitRequest) => {
  try {
    const progress = throttleProgress((p) => parentPort!.postMessage({ type: 'progress', ...p }));
    const result = runFit(request, cores, progress);
    parentPort!.postMessage({ type: 'result', ok: true, ...result }, [result.bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ type: 'result', ok: false, message: (error as Error).message });
  }
});

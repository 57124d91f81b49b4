import { parentPort } from 'node:worker_threads';
import { runFit, type FitRequest } from './fit-job.ts';

// One fit per message; the model comes back as bytes, transferred rather than copied.
parentPort!.on('message', (request: FitRequest) => {
  try {
    const result = runFit(request);
    parentPort!.postMessage({ ok: true, ...result }, [result.bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: (error as Error).message });
  }
});

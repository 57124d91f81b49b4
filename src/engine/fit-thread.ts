import { parentPort } from 'node:worker_threads';
import { CoreBank } from '../wasm/core-bank.ts';
import { runFit, runPrepare, runScrub, type FitRequest, type PrepareRequest, type ScrubRequest } from './fit-job.ts';
import { throttleProgress } from './throttle.ts';

/** One core for every job this thread runs (one at a time): memory stays at the largest fit's size. */
const cores = new CoreBank(1);

type Job = { kind: 'fit'; request: FitRequest } | { kind: 'scrub'; request: ScrubRequest } | { kind: 'prepare'; request: PrepareRequest };

// One job per message. A fit posts throttled progress while it runs, then its result, the model
// bytes transferred rather than copied. Jobs arrive one at a time (the Trainer queues them).
parentPort!.on('message', async (job: Job) => {
  try {
    if (job.kind === 'scrub') {
      parentPort!.postMessage({ type: 'result', ok: true, result: await runScrub(job.request, cores) });
      return;
    }
    if (job.kind === 'prepare') {
      const result = await runPrepare(job.request, cores);
      parentPort!.postMessage({ type: 'result', ok: true, result }, [result.bytes.buffer as ArrayBuffer]);
      return;
    }
    const progress = throttleProgress((p) => parentPort!.postMessage({ type: 'progress', ...p }));
    const result = await runFit(job.request, cores, progress);
    const transfer = result.outcome === 'trained' ? [result.bytes.buffer as ArrayBuffer] : [];
    parentPort!.postMessage({ type: 'result', ok: true, result }, transfer);
  } catch (error) {
    parentPort!.postMessage({ type: 'result', ok: false, message: (error as Error).message });
  }
});

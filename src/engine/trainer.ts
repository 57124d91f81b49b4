import { Worker } from 'node:worker_threads';
import type { FitProgress, FitRequest, FitResult, FitRunner } from './fit-job.ts';

/**
 * From src (tsx, vitest) the worker needs the starter that registers tsx; compiled, this file is
 * trainer.js and fit-thread.js runs directly.
 */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './fit-thread.mjs' : './fit-thread.js', import.meta.url);

type WorkerMessage =
  | ({ type: 'progress' } & FitProgress)
  | ({ type: 'result'; ok: true } & FitResult)
  | { type: 'result'; ok: false; message: string };

/**
 * Runs fits on a worker thread so serving never waits on training. One fit at a time; the
 * worker is started on first use and stopped by `close`. While a fit runs the worker posts its
 * progress, throttled to at most about ten messages a second (see throttle.ts).
 */
export class Trainer implements FitRunner {
  private worker: Worker | null = null;

  fit(request: FitRequest, onProgress?: (progress: FitProgress) => void): Promise<FitResult> {
    const worker = (this.worker ??= this.start());
    // Keep the process alive while a fit runs (a CLI may be awaiting it), not while idle.
    worker.ref();
    return new Promise((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      const onMessage = (msg: WorkerMessage) => {
        if (msg.type === 'progress') {
          const { phase, done: steps, total } = msg;
          onProgress?.({ phase, done: steps, total });
          return;
        }
        done();
        worker.unref();
        if (msg.ok) resolve({ bytes: msg.bytes, seconds: msg.seconds });
        else reject(new Error(`training failed: ${msg.message}`));
      };
      const onError = (error: Error) => {
        done();
        this.worker = null;
        reject(error);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.postMessage(request, [request.set.userIdx.buffer, request.set.itemIdx.buffer, request.set.values.buffer] as ArrayBuffer[]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    return worker;
  }
}

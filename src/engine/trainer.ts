import { Worker } from 'node:worker_threads';
import type { FitRequest, FitResult } from './fit-job.ts';

const WORKER_URL = new URL('./fit-thread.mjs', import.meta.url);

/**
 * Runs fits on a worker thread so serving never waits on training. One fit at a time; the
 * worker is started on first use and stopped by `close`.
 */
export class Trainer {
  private worker: Worker | null = null;

  fit(request: FitRequest): Promise<FitResult> {
    const worker = (this.worker ??= this.start());
    // Keep the process alive while a fit runs (a CLI may be awaiting it), not while idle.
    worker.ref();
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { ok: boolean; message?: string } & FitResult) => {
        worker.off('error', onError);
        worker.unref();
        if (msg.ok) resolve({ bytes: msg.bytes, seconds: msg.seconds });
        else reject(new Error(`training failed: ${msg.message}`));
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        this.worker = null;
        reject(error);
      };
      worker.once('message', onMessage);
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

import { Worker } from 'node:worker_threads';
import type { FitProgress, FitRequest, FitResult, FitRunner, PrepareRequest, ScrubRequest, Scrubbed, Trained } from './fit-job.ts';

/**
 * From src (tsx, vitest) the worker needs the starter that registers tsx; compiled, this file is
 * trainer.js and fit-thread.js runs directly.
 */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './fit-thread.mjs' : './fit-thread.js', import.meta.url);

type WorkerMessage =
  | ({ type: 'progress' } & FitProgress)
  | { type: 'result'; ok: true; result: unknown }
  | { type: 'result'; ok: false; message: string };

/**
 * Runs training jobs (fits, model scrubs after an erasure, models trained elsewhere made ready) on a worker thread so serving
 * never waits on them. Jobs run one at a time, in the order asked; the worker is started on
 * first use and stopped by `close`. While a fit runs the worker posts its progress, throttled to
 * at most about ten messages a second (see throttle.ts).
 */
export class Trainer implements FitRunner {
  private worker: Worker | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  fit(request: FitRequest, onProgress?: (progress: FitProgress) => void): Promise<FitResult> {
    const transfer = 'set' in request.source ? [request.source.set.userIdx.buffer, request.source.set.itemIdx.buffer, request.source.set.values.buffer] : [];
    return this.enqueue({ kind: 'fit', request }, transfer as ArrayBuffer[], onProgress) as Promise<FitResult>;
  }

  scrub(request: ScrubRequest): Promise<Scrubbed> {
    return this.enqueue({ kind: 'scrub', request }, []) as Promise<Scrubbed>;
  }

  prepare(request: PrepareRequest): Promise<Trained> {
    return this.enqueue({ kind: 'prepare', request }, []) as Promise<Trained>;
  }

  warm(): void {
    this.worker ??= this.start();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private enqueue(job: unknown, transfer: ArrayBuffer[], onProgress?: (progress: FitProgress) => void): Promise<unknown> {
    const run = this.queue.then(() => this.run(job, transfer, onProgress));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private run(job: unknown, transfer: ArrayBuffer[], onProgress?: (progress: FitProgress) => void): Promise<unknown> {
    const worker = (this.worker ??= this.start());
    // Keep the process alive while a job runs (a CLI may be awaiting it), not while idle.
    worker.ref();
    return new Promise((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (msg: WorkerMessage) => {
        if (msg.type === 'progress') {
          const { phase, done: steps, total } = msg;
          onProgress?.({ phase, done: steps, total });
          return;
        }
        done();
        worker.unref();
        if (msg.ok) resolve(msg.result);
        else reject(new Error(`training failed: ${msg.message}`));
      };
      const lost = (error: Error) => {
        done();
        if (this.worker === worker) this.worker = null;
        reject(error);
      };
      const onError = (error: Error) => lost(error);
      const onExit = (code: number) => lost(new Error(`training thread exited (code ${code})`));
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage(job, transfer);
    });
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    return worker;
  }
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import type { FitProgress, FitRequest, FitResult, FitRunner, PrepareRequest, ScrubRequest, Scrubbed, Trained } from '../../src/engine/fit-job.ts';
import { Trainer } from '../../src/engine/trainer.ts';
import { createApp } from '../../src/server/app.ts';
import * as responses from '../../src/server/responses.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';

/**
 * The real training thread behind a gate: a fit waits until `release()`, and meanwhile the test
 * speaks for the thread through `report`, so "during training" is a state the test holds, not a
 * race it hopes to win.
 */
class HeldTrainer implements FitRunner {
  private readonly real = new Trainer();
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  report: (progress: FitProgress) => void = () => {
    throw new Error('no fit is running');
  };

  async fit(request: FitRequest, onProgress?: (progress: FitProgress) => void): Promise<FitResult> {
    this.report = (progress) => onProgress?.(progress);
    await this.gate;
    return this.real.fit(request, onProgress);
  }

  scrub(request: ScrubRequest): Promise<Scrubbed> {
    return this.real.scrub(request);
  }

  prepare(request: PrepareRequest): Promise<Trained> {
    return this.real.prepare(request);
  }

  release(): void {
    this.opened();
  }

  close(): Promise<void> {
    return this.real.close();
  }
}

let store: SqliteStore;
let engine: Engine;
let trainer: HeldTrainer;
let app: ReturnType<typeof createApp>;

beforeEach(async () => {
  store = SqliteStore.open(':memory:');
  trainer = new HeldTrainer();
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0 }, Date.now, trainer);
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  app = createApp(engine);
});

afterEach(async () => {
  trainer.release();
  await engine.close();
  await store.close();
});

async function getModel() {
  const res = await app.request('/v1/model');
  expect(res.status).toBe(200);
  const body = await res.json();
  // The documented schema keeps every field of the real answer.
  expect(responses.model.parse(body)).toEqual(body);
  return body;
}

async function progressGauge(): Promise<number | undefined> {
  const text = await (await app.request('/metrics')).text();
  const match = /^liverec_model_training_progress (\S+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('GET /v1/model during a retrain', () => {
  it('shows the job with its progress (0–1) and phase, never going back, and the progress gauge follows', async () => {
    expect(await progressGauge()).toBeUndefined();
    const started = await app.request('/v1/model/train', { method: 'POST' });
    expect(started.status).toBe(202);
    const { jobId } = await started.json();

    expect((await getModel()).training).toEqual({ jobId, startedAt: expect.any(String), progress: 0, phase: 'starting' });
    expect(await progressGauge()).toBe(0);

    trainer.report({ phase: 'fitting', done: 3, total: 12 });
    const during = await getModel();
    expect(during.status).toBe('training');
    expect(during.training).toMatchObject({ jobId, progress: 0.25, phase: 'fitting' });
    expect(await progressGauge()).toBe(0.25);

    trainer.report({ phase: 'fitting', done: 2, total: 12 }); // a stale report does not move it back
    expect((await getModel()).training.progress).toBe(0.25);

    const seen: number[] = [];
    engine.observe({ trainingProgress: (progress) => seen.push(progress) });
    trainer.release(); // the real thread now fits, reporting from step 0 again: never below 0.25 all the same
    const done = await engine.trainNow(); // joins the running job
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.min(...seen)).toBe(0.25);
    expect(seen.at(-1)).toBe(1);
    expect(done.version).toBe(1);
    const after = await getModel();
    expect(after.status).toBe('ready');
    expect(after.training).toBeUndefined();
    expect(await progressGauge()).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import type { FitProgress } from '../../src/engine/fit-job.ts';
import { throttleProgress } from '../../src/engine/throttle.ts';
import { Trainer } from '../../src/engine/trainer.ts';
import { buildTrainingSet } from '../../src/engine/training-set.ts';
import { resolveConfig } from '../../src/engine/config.ts';
import type { TrainingPhase, TrainingStatus } from '../../src/engine/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';

const PHASE_ORDER: TrainingPhase[] = ['starting', 'fitting', 'saving'];

async function shopStore() {
  const store = SqliteStore.open(':memory:');
  await store.upsertItems(SHOP_ITEMS);
  await store.addFeedback(shopFeedback(), { createMissingItems: false, receivedAt: 0 });
  return store;
}

describe('training progress', () => {
  it('a retrain of 6 iterations reports progress that never decreases, ends at 1, and model() shows each report', async () => {
    const store = await shopStore();
    const engine = await Engine.open(store, { params: { ...SHOP_PARAMS, iterations: 6 }, retrainMinutes: 0, retrainEvery: 0 });
    const reports: Array<{ progress: number; phase: TrainingPhase; shown: TrainingStatus | undefined }> = [];
    engine.observe({ trainingProgress: (progress, phase) => reports.push({ progress, phase, shown: engine.model().training }) });
    try {
      const { jobId } = await engine.train();
      // Before the training thread has said anything: the job exists, nothing is done yet.
      expect(engine.model().training).toEqual({ jobId, startedAt: expect.any(String), progress: 0, phase: 'starting' });
      expect((await engine.metrics()).model.trainingProgress).toBe(0);
      const info = await engine.trainNow(); // joins the running job
      expect(info.training).toBeUndefined();
      expect((await engine.metrics()).model.trainingProgress).toBeNull();

      expect(reports.length).toBeGreaterThanOrEqual(3); // the first step, the last, saving: never throttled
      expect(reports[0]).toMatchObject({ progress: 0, phase: 'fitting' });
      expect(reports.at(-1)).toMatchObject({ progress: 1, phase: 'saving' });
      for (const [t, r] of reports.entries()) {
        expect(r.progress).toBeGreaterThanOrEqual(0);
        expect(r.progress).toBeLessThanOrEqual(1);
        if (t > 0) {
          expect(r.progress).toBeGreaterThanOrEqual(reports[t - 1].progress);
          expect(PHASE_ORDER.indexOf(r.phase)).toBeGreaterThanOrEqual(PHASE_ORDER.indexOf(reports[t - 1].phase));
        }
        // What an observer is told is what GET /v1/model answers at that moment.
        expect(r.shown).toEqual({ jobId, startedAt: expect.any(String), progress: r.progress, phase: r.phase });
      }
      // Steps are half-sweeps: 12 for 6 iterations, so every report is a multiple of 1/12.
      for (const r of reports) expect(Math.abs(r.progress * 12 - Math.round(r.progress * 12))).toBeLessThan(1e-9);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it('the training thread throttles its progress: a fit of 8000 tiny steps posts a handful of messages', async () => {
    const store = await shopStore();
    const config = resolveConfig({ params: { factors: 2, iterations: 4000, cgSteps: 1 } });
    const set = await buildTrainingSet(store, config);
    await store.close();
    const trainer = new Trainer();
    const messages: FitProgress[] = [];
    try {
      const start = performance.now();
      await trainer.fit({ algorithm: 'implicit-als', params: config.params, config, trainedAt: 0, source: { set, items: [] } }, (p) => messages.push(p));
      const elapsedMs = performance.now() - start;
      const fitting = messages.filter((m) => m.phase === 'fitting');
      expect(fitting[0]).toEqual({ phase: 'fitting', done: 0, total: 8000 });
      expect(fitting.at(-1)).toEqual({ phase: 'fitting', done: 8000, total: 8000 });
      expect(messages.at(-1)).toEqual({ phase: 'saving', done: 8000, total: 8000 });
      for (let t = 1; t < fitting.length; t++) expect(fitting[t].done).toBeGreaterThan(fitting[t - 1].done);
      // Unthrottled this would be 8002 messages. Throttled: the first step, the last, saving, and
      // at most one step per 100 ms of the fit in between (the fit took less than elapsedMs).
      expect(messages.length).toBeLessThanOrEqual(3 + Math.floor(elapsedMs / 100) + 1);
    } finally {
      await trainer.close();
    }
  });
});

describe('throttleProgress', () => {
  it('passes the first report of each phase and the last step, and at most one step per interval', () => {
    let clock = 0;
    const sent: FitProgress[] = [];
    const report = throttleProgress((p) => sent.push(p), 100, () => clock);
    const step = (done: number, at: number, phase: FitProgress['phase'] = 'fitting') => {
      clock = at;
      report({ phase, done, total: 10 });
    };
    step(0, 0); // first: passes
    step(1, 10);
    step(2, 99);
    step(3, 100); // 100 ms after the last one sent: passes
    step(4, 150);
    step(5, 199);
    step(6, 260); // passes
    step(7, 261);
    step(10, 262); // the last step always passes
    step(10, 263, 'saving'); // a new phase always passes
    expect(sent.map((p) => `${p.phase}:${p.done}`)).toEqual(['fitting:0', 'fitting:3', 'fitting:6', 'fitting:10', 'saving:10']);
  });
});

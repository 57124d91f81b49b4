import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { runFit } from '../../src/engine/fit-job.ts';
import { resolveConfig } from '../../src/engine/config.ts';
import { buildTrainingSet } from '../../src/engine/training-set.ts';
import { loadModel } from '../../src/model/index.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { CoreBank } from '../../src/wasm/core-bank.ts';
import { coresCreated } from '../../src/wasm/core.ts';
import { SHOP_ITEMS, SHOP_PARAMS, T0, shopFeedback } from '../fixtures/shop.ts';

const open: Array<{ engine: Engine; store: SqliteStore }> = [];

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.close();
    await store.close();
  }
});

async function shop(config = {}) {
  const store = SqliteStore.open(':memory:');
  const engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0, ...config });
  open.push({ engine, store });
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  return { engine, store };
}

describe('memory across retrains', () => {
  it('keeps a fixed set of WebAssembly cores in the serving thread however many retrains run', async () => {
    const { engine, store } = await shop({ blend: false });
    await engine.trainNow();
    await engine.trainNow();
    // From here on every model (serving, baseline) reuses a core a replaced model gave back.
    const made = coresCreated();
    for (let round = 0; round < 6; round++) {
      await engine.addFeedback({ userId: `au${round}`, itemId: `h${round}`, type: 'purchase', value: null, timestamp: T0 + 1e7 + round }, 3);
      await engine.recommend(`hu${round}`, { n: 3 });
      await engine.trainNow();
    }
    expect(coresCreated()).toBe(made);
    // The reused cores serve exactly what the newest saved model holds (the blend off: the model's own list).
    const latest = loadModel(await store.loadModelBytes(engine.model().version!));
    for (const userId of ['hu0', 'au5', 'hu11']) {
      expect((await engine.recommend(userId, { n: 5 })).recommendations).toEqual(latest.recommend(userId, { n: 5 }));
    }
    expect((await engine.profile('au3')).drift?.distance).toBeCloseTo(0, 6); // the baseline is the fresh model too
  });

  it('runs fit after fit in a training thread on one core, each model bit-identical to a fresh fit', async () => {
    const { store } = await shop();
    const config = resolveConfig({ params: SHOP_PARAMS });
    const request = async () => ({
      algorithm: config.algorithm, params: SHOP_PARAMS, config, trainedAt: T0,
      source: { set: await buildTrainingSet(store, config), items: await store.listItems() },
    });
    const bytes = async (bank?: CoreBank) => {
      const result = await runFit(await request(), bank);
      if (result.outcome !== 'trained') throw new Error('nothing trained');
      return Buffer.from(result.bytes);
    };
    const reference = await bytes();
    const bank = new CoreBank(1);
    for (let round = 0; round < 4; round++) {
      expect((await bytes(bank)).equals(reference)).toBe(true);
    }
    expect(bank.created).toBe(1);
    expect(bank.idle).toBe(1);
  });
});

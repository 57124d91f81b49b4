/**
 * One keep-alive connection held through a retrain and the swap to its model, then through an
 * idle pause longer than Node's default keep-alive timeout (5 s): every request is answered on the
 * same socket, none is reset.
 */
import { request as httpRequest, Agent } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createApp } from '../../src/server/app.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SHOP_ITEMS, SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';

let store: SqliteStore;
let engine: Engine;
let server: Listening;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'liverec-')), 'shop.db'));
  engine = await Engine.open(store, { params: SHOP_PARAMS, retrainMinutes: 0, retrainEvery: 0 });
  await engine.upsertItems(SHOP_ITEMS);
  await engine.importFeedback(shopFeedback());
  await engine.trainNow();
  server = await listen(createApp(engine), { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  agent.destroy();
  await server.close();
  await engine.close();
  await store.close();
});

/** One request on the shared agent: status, parsed body, and whether it went out on a reused socket. */
function call(method: string, path: string): Promise<{ status: number; body: Record<string, unknown>; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keep-alive across a retrain', () => {
  it('answers every request on one socket through the retrain, the swap and a 6 s idle pause', async () => {
    const first = await call('GET', '/v1/users/hu0/recommendations?n=3');
    expect(first.status).toBe(200);
    const version = first.body.modelVersion as number;
    expect((await call('POST', '/v1/model/train')).status).toBe(202);
    const seen: Array<{ status: number; reused: boolean; version: unknown }> = [];
    while (seen.length < 500) {
      const res = await call('GET', '/v1/users/hu0/recommendations?n=3');
      seen.push({ status: res.status, reused: res.reused, version: res.body.modelVersion });
      if (res.body.modelVersion === version + 1 && engine.model().status === 'ready') break;
      await sleep(20);
    }
    expect(seen.at(-1)!.version).toBe(version + 1);
    for (const r of seen) expect(r).toMatchObject({ status: 200, reused: true });
    await sleep(6_000);
    const after = await call('GET', '/v1/users/hu0/recommendations?n=3');
    expect(after).toMatchObject({ status: 200, reused: true });
  }, 30_000);
});

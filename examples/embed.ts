/**
 * liverec as a library: open an engine on a database, feed it, train, recommend, mount its HTTP
 * API in an existing Hono app and in a plain node:http server, close.
 *
 *   npm install liverec hono @hono/node-server
 *   node embed.js [database file]        (this file compiled; default: a file in the OS temp dir)
 *
 * The package test (test/package/package.test.ts) compiles and runs it against the packed tarball.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp, Engine, SqliteStore, type FeedbackInput } from 'liverec';

const dbPath = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'liverec-example-')), 'shop.db');

// The store is the one SQLite file; the engine keeps user profiles live on top of it. No
// background retrains here: the example trains once, explicitly.
const store = SqliteStore.open(dbPath);
const engine = await Engine.open(store, { algorithm: 'item-knn', retrainEvery: 0, retrainMinutes: 0 });

await engine.upsertItems([
  { itemId: 'tent', categories: ['outdoor'] },
  { itemId: 'stove', categories: ['outdoor'] },
  { itemId: 'lamp', categories: ['outdoor'] },
  { itemId: 'novel', categories: ['books'] },
  { itemId: 'atlas', categories: ['books'] },
  { itemId: 'poems', categories: ['books'] },
]);

// Two tastes: campers buy outdoor gear, readers buy books.
const now = Date.now();
const bought = (userId: string, itemId: string): FeedbackInput => ({ userId, itemId, type: 'purchase', value: null, timestamp: now });
const history: FeedbackInput[] = [];
for (const camper of ['c1', 'c2', 'c3']) for (const item of ['tent', 'stove', 'lamp']) history.push(bought(camper, item));
for (const reader of ['r1', 'r2', 'r3']) for (const item of ['novel', 'atlas', 'poems']) history.push(bought(reader, item));
await engine.importFeedback(history);

const model = await engine.trainNow();
console.log(`trained ${model.algorithm} version ${model.version}`);

// A live event: the answer already carries the user's updated list.
const live = await engine.addFeedback(bought('visitor', 'tent'), 2);
console.log(`after buying a tent: ${live.recommendations.map((r) => r.itemId).join(', ')}`);
const { recommendations } = await engine.recommend('visitor', { n: 2 });
console.log(`recommend: ${recommendations.map((r) => r.itemId).join(', ')}`);

// 1. Inside an existing Hono app, under a prefix of your choosing.
const shop = new Hono();
shop.get('/', (c) => c.text('the shop'));
shop.route('/recs', createApp(engine));
const viaHono = await shop.request('/recs/v1/users/visitor/recommendations?n=2');
console.log(`hono: ${viaHono.status} ${JSON.stringify(await viaHono.json())}`);

// 2. Inside a plain node:http server: the app is a fetch handler; @hono/node-server adapts it.
const server = createServer(getRequestListener(createApp(engine).fetch));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const viaHttp = await fetch(`http://127.0.0.1:${port}/v1/popular?n=1`);
console.log(`node:http: ${viaHttp.status} ${JSON.stringify(await viaHttp.json())}`);
await new Promise((resolve) => server.close(resolve));

// The engine first (it finishes queued writes and stops its training thread), then the store.
await engine.close();
await store.close();

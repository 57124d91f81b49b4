/**
 * Memory benchmark → bench/results/memory.json. A benchmark, not a test: it asserts nothing.
 *
 * Each case runs in a fresh child process (node --expose-gc) so its RSS is its own: RSS at start
 * (runtime + modules), after building the interactions, and after fitting implicit ALS (k = 64,
 * default params), each after a full GC. Compared with the raw bytes the model needs:
 * factors (users + items) × k × 4 plus interactions nnz × 12 (user i32, item i32, value f32).
 *
 *   npx tsx bench/memory.ts [--quick]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Interactions } from '../src/data/interactions.ts';
import { readInteractions } from '../src/eval/readers.ts';
import { createModel } from '../src/model/index.ts';
import { ML_SMALL, ROOT, arg, collectGarbage, isQuick, memorySnapshot, syntheticInteractions, writeResult } from './lib.ts';

const quick = isQuick();
const K = 64;

const CASES: Record<string, { description: string; load: () => Interactions }> = {
  'ml-latest-small': {
    description: 'data/ml-latest-small/ratings.csv read and built as implicit interactions (weight 1 per pair)',
    // Read without the per-process row cache, so the parsed rows can be collected.
    load: () => Interactions.from(readInteractions(ML_SMALL).map((r) => ({ userId: r.user, itemId: r.item, value: 1 })), 'sum'),
  },
  'synthetic-1M': {
    description: 'bench/synthetic.ts 100k users × 50k items, 1M distinct pairs, seed 1',
    load: () => syntheticInteractions({ users: 100_000, items: 50_000, interactions: 1_000_000, seed: 1 }),
  },
  'synthetic-100k': {
    description: 'bench/synthetic.ts 10k users × 5k items, 100k distinct pairs, seed 1',
    load: () => syntheticInteractions({ users: 10_000, items: 5_000, interactions: 100_000, seed: 1 }),
  },
};

const snapshot = () => {
  collectGarbage();
  return memorySnapshot();
};

const name = arg('case', '');
if (name) {
  // Child: one case, one JSON line on stdout.
  const c = CASES[name];
  if (!c) throw new Error(`unknown case ${name}`);
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') throw new Error('run with node --expose-gc');
  const start = snapshot();
  let data: Interactions | null = c.load();
  const loaded = snapshot();
  const model = createModel('implicit-als', { factors: K }).fit(data);
  const users = data.users.size;
  const items = data.items.size;
  const nnz = data.size;
  const fittedWithData = snapshot();
  // The model keeps what it needs (factors, seen-items history, id maps); drop the input.
  data = null;
  const fitted = snapshot();
  const wasmBytes = (model as unknown as { core: { memory: WebAssembly.Memory } }).core.memory.buffer.byteLength;
  const factorBytes = (users + items) * K * 4;
  const interactionBytes = nnz * 12;
  const raw = factorBytes + interactionBytes;
  process.stdout.write(
    JSON.stringify({
      dataset: name,
      description: c.description,
      algorithm: 'implicit-als',
      k: K,
      users,
      items,
      interactions: nnz,
      rawBytes: { factors: factorBytes, interactions: interactionBytes, total: raw },
      bytes: { start, loaded, fittedWithData, fitted },
      wasmMemoryBytes: wasmBytes,
      rssRatio: {
        loaded: loaded.rss / raw,
        fitted: fitted.rss / raw,
        /** Growth over the process's starting RSS, per raw byte: the part the data is responsible for. */
        fittedAboveStart: (fitted.rss - start.rss) / raw,
      },
    }) + '\n',
  );
  // Keep the model reachable until after the last snapshot.
  if (model.itemCount < 0) console.log('unreachable');
} else {
  const cases = quick ? ['ml-latest-small', 'synthetic-100k'] : ['ml-latest-small', 'synthetic-1M'];
  const results = cases.map((c) => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/memory.ts'), '--case', c], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `${c.padEnd(16)} raw ${mb(r.rawBytes.total)}  RSS start ${mb(r.bytes.start.rss)}, loaded ${mb(r.bytes.loaded.rss)}, fitted ${mb(r.bytes.fitted.rss)}  ` +
        `ratio fitted/raw ${r.rssRatio.fitted.toFixed(1)}× (above start ${r.rssRatio.fittedAboveStart.toFixed(1)}×)`,
    );
    return r;
  });
  writeResult('memory', {
    method:
      'Fresh process per dataset (node --expose-gc, tsx loader), RSS from process.memoryUsage() after a full GC: at start, after ' +
      'building the Interactions, after fitting implicit ALS (k = 64) and dropping the input. Raw bytes = (users + items) × k × 4 ' +
      '+ nnz × 12. Ratio = RSS / raw; "above start" subtracts the starting RSS (runtime, modules, tsx).',
    k: K,
    results,
  });
}

import { describe, expect, it } from 'vitest';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/data/rng.ts';
import { ModelStateError } from '../../src/errors.ts';
import { createModel, ImplicitAls, ItemKnn, loadModel } from '../../src/model/index.ts';
import type { Algorithm } from '../../src/model/types.ts';
import { CoreBank } from '../../src/wasm/core-bank.ts';
import type { Core } from '../../src/wasm/core.ts';
import { checkerboard } from '../fixtures/checkerboard.ts';
import { cosineNeighborsRef, type Triplet } from '../reference/knn.ts';

const coreOf = (model: unknown) => (model as { core: Core }).core;

/** Random sparse ratings over users u0.. and items i0..; some items end up with one rater. */
function randomTriplets(seed: number, nUsers: number, nItems: number, density: number): Triplet[] {
  const rng = new Rng(seed);
  const out: Triplet[] = [];
  for (let u = 0; u < nUsers; u++) for (let i = 0; i < nItems; i++) if (rng.next() < density) out.push([u, i, 0.5 + 4 * rng.next()]);
  return out;
}

function interactions(triplets: Triplet[], nUsers: number, nItems: number): Interactions {
  return Interactions.fromArrays(
    Array.from({ length: nUsers }, (_, u) => `u${u}`),
    Array.from({ length: nItems }, (_, i) => `i${i}`),
    Int32Array.from(triplets, (t) => t[0]),
    Int32Array.from(triplets, (t) => t[1]),
    Float32Array.from(triplets, (t) => t[2]),
  );
}

const lists = (model: ItemKnn, nItems: number, K: number) =>
  Array.from({ length: nItems }, (_, i) => model.similarItems(`i${i}`, K));

describe('item-knn forgetUser', () => {
  const nUsers = 40, nItems = 30, K = 6, shrink = 2;
  const triplets = randomTriplets(5, nUsers, nItems, 0.15);
  const params = { neighbors: K, shrink };

  it('leaves every neighbour list equal to a fit without the user (and to the dense reference)', () => {
    const model = new ItemKnn(params).fit(interactions(triplets, nUsers, nItems));
    let left = triplets;
    for (const u of [3, 17, 0]) {
      model.forgetUser(`u${u}`);
      left = left.filter((t) => t[0] !== u);
      const refit = new ItemKnn(params).fit(interactions(left, nUsers, nItems));
      expect(lists(model, nItems, K)).toEqual(lists(refit, nItems, K));
      const ref = cosineNeighborsRef(left, nUsers, nItems, K, shrink);
      for (let i = 0; i < nItems; i++) {
        const got = model.similarItems(`i${i}`, K);
        expect(got.map((s) => s.itemId)).toEqual(Array.from(ref.idx.subarray(i * K, (i + 1) * K)).filter((j) => j >= 0).map((j) => `i${j}`));
        got.forEach((s, n) => expect(s.score).toBeCloseTo(ref.sim[i * K + n], 5));
      }
    }
    expect(model.hasUser('u3')).toBe(false);
  });

  it('reuses its memory: repeated erasures neither grow WebAssembly memory nor the heap in use', () => {
    const model = new ItemKnn(params).fit(interactions(triplets, nUsers, nItems));
    const core = coreOf(model);
    model.forgetUser('u1');
    const size = core.memory.buffer.byteLength;
    const used = core.used;
    for (let u = 2; u < 12; u++) model.forgetUser(`u${u}`);
    expect(core.used).toBe(used);
    expect(core.memory.buffer.byteLength).toBe(size);
  });

  it('leaves the similarities alone for a user folded in after training', () => {
    const model = new ItemKnn(params).fit(interactions(triplets, nUsers, nItems));
    const before = lists(model, nItems, K);
    model.foldInUser('late', [{ itemId: 'i1', value: 3 }, { itemId: 'i2', value: 1 }]);
    model.forgetUser('late');
    expect(lists(model, nItems, K)).toEqual(before);
    expect(model.hasProfile('late')).toBe(false);
  });
});

describe('implicit-als foldInItem with a cached user Gram', () => {
  const data = Interactions.from(checkerboard(10, false), 'sum');
  const params = { factors: 3, iterations: 5, reg: 0.1, alpha: 5 };
  const fresh = (model: ImplicitAls) => loadModel(model.save()) as ImplicitAls;
  const history = [{ userId: 'u1', value: 2 }, { userId: 'u4', value: 1 }, { userId: 'u7', value: 3 }];

  it('equals a fold-in on a freshly loaded model, also after user vectors changed in between', () => {
    const model = new ImplicitAls(params).fit(data);
    const first = model.foldInItem('new1', history);
    expect(Array.from(first)).toEqual(Array.from(fresh(model).foldInItem('new1', history)));
    // A user fold-in changes X, so XᵀX must be recomputed for the next item.
    model.foldInUser('u4', [{ itemId: 'i0', value: 5 }, { itemId: 'i3', value: 1 }]);
    const second = model.foldInItem('new2', history);
    expect(Array.from(second)).toEqual(Array.from(fresh(model).foldInItem('new2', history)));
    expect(Array.from(second)).not.toEqual(Array.from(first));
    model.forgetUser('u7');
    const third = model.foldInItem('new3', history);
    expect(Array.from(third)).toEqual(Array.from(fresh(model).foldInItem('new3', history)));
  });
});

describe('dispose and banked cores', () => {
  const algorithms: Array<[Algorithm, Record<string, unknown>]> = [
    ['implicit-als', { factors: 2, iterations: 5 }],
    ['als', { factors: 2, iterations: 5 }],
    ['svd', { factors: 2, iterations: 20 }],
    ['item-knn', { neighbors: 5 }],
    ['popular', {}],
  ];

  it.each(algorithms)('%s: a model on a reused core is bit-identical to one on a new core', (algorithm, params) => {
    const explicit = algorithm === 'als' || algorithm === 'svd';
    const data = Interactions.from(checkerboard(12, explicit), explicit ? 'last' : 'sum');
    const bank = new CoreBank(2);
    const reference = createModel(algorithm, params).fit(data).save();
    for (let round = 0; round < 3; round++) {
      const model = createModel(algorithm, params, { cores: bank }).fit(data);
      model.foldInUser('someone', [{ itemId: 'i1', value: 4 }]); // leave the memory dirty
      const again = loadModel(reference, { cores: bank });
      expect(Buffer.from(again.save()).equals(Buffer.from(reference))).toBe(true);
      again.dispose();
      model.dispose();
    }
    expect(bank.created).toBe(2);
  });

  it('makes a disposed model refuse to answer or be refitted', () => {
    const data = Interactions.from(checkerboard(12, false), 'sum');
    const model = new ImplicitAls({ factors: 2, iterations: 3 }).fit(data);
    model.dispose();
    model.dispose();
    expect(model.hasUser('u0')).toBe(false);
    expect(() => model.recommend('u0')).toThrow(ModelStateError);
    expect(() => model.fit(data)).toThrow(/disposed/);
  });
});

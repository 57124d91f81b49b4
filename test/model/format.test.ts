import { describe, expect, it } from 'vitest';
import { Interactions } from '../../src/data/interactions.ts';
import { decodeModel, decodeModelSteps } from '../../src/model/format.ts';
import { createModel, loadModel, loadModelInSlices } from '../../src/model/index.ts';

/** 45,000 users × 30 items: more ids than one id block holds (20,000), so a load takes several steps. */
function wideModel() {
  const rows = Array.from({ length: 45_000 }, (_, u) => ({ userId: `user-${u}`, itemId: `item-${u % 30}`, value: 1 + (u % 3) }));
  return createModel('implicit-als', { factors: 4, iterations: 2, seed: 3 }).fit(Interactions.from(rows, 'sum'));
}

/** A version-1 file (ids inside the header), as builds before the id blocks wrote it. */
function versionOne(bytes: Uint8Array): Uint8Array {
  const state = decodeModel(bytes);
  const entries: Array<{ name: string; type: string; offset: number; length: number }> = [];
  let offset = 0;
  for (const [name, array] of Object.entries(state.arrays)) {
    entries.push({ name, type: array instanceof Float32Array ? 'f32' : 'i32', offset, length: array.length });
    offset = (offset + array.byteLength + 7) & ~7;
  }
  const header = new TextEncoder().encode(JSON.stringify({ ...state, arrays: entries }));
  const start = (12 + header.length + 7) & ~7;
  const out = new Uint8Array(start + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x4352564c, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  entries.forEach((e) => {
    const a = state.arrays[e.name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + e.offset);
  });
  return out;
}

describe('the model format', () => {
  it('decodes the id lists a block at a time: one step for the header, one per 20,000 ids', () => {
    const model = wideModel();
    const steps = decodeModelSteps(model.save());
    let yields = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) yields++;
    // 45,000 users → 3 blocks, 30 items → 1 block.
    expect(yields).toBe(4);
    expect(step.value.users).toHaveLength(45_000);
    expect(step.value.users[44_999]).toBe('user-44999');
    model.dispose();
  });

  it('still reads version-1 files, to the same model', () => {
    const model = wideModel();
    const bytes = model.save();
    const old = loadModel(versionOne(bytes));
    expect(old.recommend('user-7', { n: 5 })).toEqual(model.recommend('user-7', { n: 5 }));
    // Saved again, it is written in the current version, byte for byte what the original wrote.
    expect(Buffer.from(old.save()).equals(Buffer.from(bytes))).toBe(true);
    old.dispose();
    model.dispose();
  });

  it('loadModelInSlices loads the same model as loadModel, letting other work run between its steps', async () => {
    const model = wideModel();
    const bytes = model.save();
    let turns = 0;
    let loading = true;
    const tick = () => {
      turns++;
      if (loading) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = await loadModelInSlices(bytes);
    loading = false;
    const whole = loadModel(bytes);
    expect(Buffer.from(sliced.save()).equals(Buffer.from(whole.save()))).toBe(true);
    expect(sliced.recommend('user-12', { n: 3 })).toEqual(model.recommend('user-12', { n: 3 }));
    expect(turns).toBeGreaterThan(0);
    for (const m of [model, sliced, whole]) m.dispose();
  });
});

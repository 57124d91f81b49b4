import { describe, expect, it } from 'vitest';
import { Interactions } from '../../src/data/interactions.ts';
import { Baseline } from '../../src/engine/baseline.ts';
import type { AnyFactorModel } from '../../src/model/factor-model.ts';
import { createModel } from '../../src/model/index.ts';
import { SHOP_PARAMS, shopFeedback } from '../fixtures/shop.ts';

function trained(): AnyFactorModel {
  const data = Interactions.from(shopFeedback().map((e) => ({ userId: e.userId, itemId: e.itemId, value: 1 })), 'sum');
  return createModel('implicit-als', SHOP_PARAMS).fit(data) as AnyFactorModel;
}

describe('Baseline (the drift reference)', () => {
  it('holds each user vector as the model had it, untouched by later fold-ins', () => {
    const model = trained();
    const baseline = Baseline.of(model);
    const before = model.userVector('hu1');
    expect(Array.from(baseline.vector('hu1')!)).toEqual(Array.from(before));
    model.foldInUser('hu1', [{ itemId: 'a1', value: 5 }, { itemId: 'a2', value: 5 }]);
    expect(Array.from(model.userVector('hu1'))).not.toEqual(Array.from(before));
    expect(Array.from(baseline.vector('hu1')!)).toEqual(Array.from(before));
    model.dispose();
  });

  it('knows no user the model had no profile for, and forgets an erased one', () => {
    const model = trained();
    const baseline = Baseline.of(model);
    expect(baseline.vector('nobody')).toBeNull();
    const vector = baseline.vector('au1')!;
    baseline.forget('au1');
    expect(baseline.vector('au1')).toBeNull();
    // The copy it handed out earlier is a view: erasure zeroes the numbers too.
    expect(Array.from(vector)).toEqual(new Array(SHOP_PARAMS.factors).fill(0));
    model.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import { CoreBank } from '../../src/wasm/core-bank.ts';
import { Core, coresCreated } from '../../src/wasm/core.ts';

describe('Core.reset', () => {
  it('hands out the same addresses again, zeroed, and keeps the memory at its size', () => {
    const core = new Core();
    const first = core.allocF32(300_000); // grows memory past its initial 2 pages
    core.f32(first, 300_000).fill(7);
    const scratch = core.mark();
    core.f32(core.allocF32(1000), 1000).fill(3);
    core.release(scratch); // released bytes stay dirty until reset clears them too
    const size = core.memory.buffer.byteLength;
    const used = core.used;
    core.reset();
    expect(core.used).toBeLessThan(used);
    const again = core.allocF32(301_000);
    expect(again).toBe(first);
    expect(core.f32(again, 301_000).every((x) => x === 0)).toBe(true);
    expect(core.memory.buffer.byteLength).toBe(size);
  });
});

describe('CoreBank', () => {
  it('reuses given-back cores instead of making new ones, keeping at most maxSpare idle', () => {
    const bank = new CoreBank(1);
    const before = coresCreated();
    const a = bank.take();
    const b = bank.take();
    expect(bank.created).toBe(2);
    a.allocF32(10);
    bank.give(a);
    bank.give(b); // over maxSpare: dropped
    expect(bank.idle).toBe(1);
    expect(bank.take()).toBe(a);
    expect(a.used).toBe(new Core().used); // reset to the heap base
    expect(bank.created).toBe(2);
    expect(coresCreated() - before).toBe(3); // a, b and the fresh one above
  });

  it('refuses a core given back twice', () => {
    const bank = new CoreBank(2);
    const core = bank.take();
    bank.give(core);
    expect(() => bank.give(core)).toThrow(/twice/);
  });
});

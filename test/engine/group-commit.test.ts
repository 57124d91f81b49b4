import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/engine/group-commit.ts';

describe('GroupCommit', () => {
  it('hands everything submitted in one turn over as one batch, and answers each in order', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (batch) => {
      batches.push(batch);
      return batch.map((x) => async () => x * 10);
    });
    const first = await Promise.all([group.submit(1), group.submit(2), group.submit(3)]);
    const second = await group.submit(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    expect(first).toEqual([10, 20, 30]);
    expect(second).toBe(40);
  });

  it('rejects the whole batch when the commit throws, and only its own submission when an answer throws', async () => {
    let failCommit = true;
    const group = new GroupCommit<number, number>(async (batch) => {
      if (failCommit) throw new Error('disk full');
      return batch.map((x) => async () => {
        if (x === 2) throw new Error('no answer for 2');
        return x;
      });
    });
    const failed = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(failed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual(['disk full', 'disk full']);
    failCommit = false;
    const mixed = await Promise.allSettled([group.submit(1), group.submit(2), group.submit(3)]);
    expect(mixed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual([1, 'no answer for 2', 3]);
  });

  it('flush commits what is queued at once; the scheduled flush then finds nothing', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (batch) => (batches.push(batch), batch.map((x) => async () => x)));
    const pending = group.submit(7);
    const flushed = group.flush();
    expect(batches).toEqual([[7]]);
    await flushed;
    expect(batches).toEqual([[7]]);
    expect(await pending).toBe(7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[7]]);
  });
});

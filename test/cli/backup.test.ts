import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { cli, tempDir } from './helpers.ts';

describe('backup and restore', () => {
  it('copies a database while it is open for writing, and restores it', async () => {
    const { dir } = tempDir();
    const db = join(dir, 'live.db');
    const live = SqliteStore.open(db);
    await live.addFeedback([{ userId: 'u', itemId: 'i', type: 'click', value: null, timestamp: 1 }], { createMissingItems: true });
    const backup = await cli('backup', '--db', db, '--to', join(dir, 'copy.db'));
    expect(backup).toMatchObject({ code: 0, stdout: expect.stringContaining('backed up 1 feedback events') });
    // The live database keeps changing; the backup keeps the moment it was taken.
    await live.addFeedback([{ userId: 'u', itemId: 'j', type: 'click', value: null, timestamp: 2 }], { createMissingItems: true });
    await live.close();
    const target = join(dir, 'restored.db');
    expect((await cli('restore', '--from', join(dir, 'copy.db'), '--db', target)).code).toBe(0);
    const restored = SqliteStore.open(target);
    expect((await restored.userFeedback('u')).map((e) => e.itemId)).toEqual(['i']);
    await restored.close();
  });

  it('refuses to overwrite files or restore something that is not a liverec database', async () => {
    const { dir } = tempDir();
    const db = join(dir, 'a.db');
    await SqliteStore.open(db).close();
    const exists = await cli('backup', '--db', db, '--to', db);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/--to: .* already exists/);
    const overwrite = await cli('restore', '--from', db, '--db', db);
    expect(overwrite.stderr).toMatch(/pass --force/);
    const missing = await cli('restore', '--from', join(dir, 'nope.db'), '--db', join(dir, 'b.db'));
    expect(missing.stderr).toMatch(/--from: .* does not exist/);
    expect(existsSync(join(dir, 'b.db'))).toBe(false);
  });
});

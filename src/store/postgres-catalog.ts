import type { PgSql } from './postgres-connect.ts';
import { recordChange } from './postgres-replication.ts';
import type { ItemInput, ItemRecord } from './types.ts';

/** The catalog on PostgreSQL: functions of the pool, delegated to by PostgresStore. */

/** Type oid of boolean[]: the driver would otherwise declare an array of booleans as one boolean. */
const BOOL_ARRAY = 1000;

const ITEM_COLUMNS = `i.external_id AS "itemId", i.title, i.categories, i.metadata, i.available,
  i.created_at AS "createdAt", i.updated_at AS "updatedAt"`;

/**
 * One transaction, set-based; the same "omitted fields keep their value" rule as SQLite's upsert
 * (a null title is a value, an undefined one is not). Publishes one 'items' change.
 */
export async function upsertItems(sql: PgSql, items: ItemInput[], now: number): Promise<number> {
  if (items.length === 0) return 0;
  const merged = mergeRepeats(items);
  return sql.begin(async (tx) => {
    let pending = merged;
    // A statement writes what its snapshot shows (UPDATE) or what is new (INSERT); an item
    // another server inserted in between is neither, and the next statement, with a fresher
    // snapshot, updates it.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 5) throw new Error('items kept being created concurrently; upsert gave up after 5 attempts');
      const [{ written }] = await tx<Array<{ written: string[] }>>`
        WITH input AS (
          SELECT * FROM unnest(${pending.map((i) => i.itemId)}::text[], ${pending.map((i) => i.title ?? null)}::text[],
            ${tx.array(pending.map((i) => i.title !== undefined), BOOL_ARRAY)}::bool[], ${pending.map((i) => json(i.categories))}::text[],
            ${pending.map((i) => json(i.metadata))}::text[], ${tx.array(pending.map((i) => i.available ?? null), BOOL_ARRAY)}::bool[])
            WITH ORDINALITY AS x (item_ext, title, set_title, categories, metadata, available, ord)
        ),
        updated AS (
          UPDATE items i SET title = CASE WHEN x.set_title THEN x.title ELSE i.title END,
            categories = coalesce(x.categories::jsonb, i.categories), metadata = coalesce(x.metadata::json, i.metadata),
            available = coalesce(x.available, i.available), updated_at = ${now}
          FROM input x WHERE i.external_id = x.item_ext
          RETURNING i.external_id
        ),
        inserted AS (
          INSERT INTO items (external_id, title, categories, metadata, available, created_at, updated_at)
          SELECT item_ext, title, coalesce(categories::jsonb, '[]'), coalesce(metadata::json, '{}'), coalesce(available, true), ${now}, ${now}
          FROM input x WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.external_id = x.item_ext) ORDER BY ord
          ON CONFLICT (external_id) DO NOTHING
          RETURNING external_id
        )
        SELECT array(SELECT external_id FROM updated UNION ALL SELECT external_id FROM inserted) AS written`;
      const done = new Set(written);
      pending = pending.filter((i) => !done.has(i.itemId));
    }
    await recordChange(tx, 'items', merged.map((i) => i.itemId), now);
    return items.length;
  });
}

export async function getItems(sql: PgSql, itemIds: string[]): Promise<ItemRecord[]> {
  if (itemIds.length === 0) return [];
  return sql<ItemRecord[]>`
    SELECT ${sql.unsafe(ITEM_COLUMNS)} FROM unnest(${itemIds}::text[]) WITH ORDINALITY AS q (external_id, ord)
    JOIN items i ON i.external_id = q.external_id ORDER BY q.ord`;
}

export async function getItem(sql: PgSql, itemId: string): Promise<ItemRecord | null> {
  const [row] = await sql<ItemRecord[]>`SELECT ${sql.unsafe(ITEM_COLUMNS)} FROM items i WHERE i.external_id = ${itemId}`;
  return row ?? null;
}

export async function listItems(sql: PgSql): Promise<ItemRecord[]> {
  return sql<ItemRecord[]>`SELECT ${sql.unsafe(ITEM_COLUMNS)} FROM items i ORDER BY i.id`;
}

/** Publishes an 'items' change when the item exists. */
export async function setItemAvailable(sql: PgSql, itemId: string, available: boolean, now: number): Promise<boolean> {
  return sql.begin(async (tx) => {
    const updated = await tx`UPDATE items SET available = ${available}, updated_at = ${now} WHERE external_id = ${itemId}`;
    if (updated.count === 0) return false;
    await recordChange(tx, 'items', [itemId], now);
    return true;
  });
}

/**
 * Several inputs for one item behave as if applied in turn (later fields win, omitted ones keep
 * the earlier value): one statement cannot touch a row twice.
 */
function mergeRepeats(items: ItemInput[]): ItemInput[] {
  const byId = new Map<string, ItemInput>();
  for (const item of items) {
    const earlier = byId.get(item.itemId);
    if (!earlier) {
      byId.set(item.itemId, { ...item });
      continue;
    }
    for (const [key, value] of Object.entries(item)) if (value !== undefined) (earlier as unknown as Record<string, unknown>)[key] = value;
  }
  return [...byId.values()];
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

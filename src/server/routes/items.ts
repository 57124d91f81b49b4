import { Hono } from 'hono';
import type { ItemRecord } from '../../store/types.ts';
import { InvalidInputError } from '../../errors.ts';
import { jsonBody } from '../middleware.ts';
import type { ResponseOf } from '../api.ts';
import type { AppEnv, RouteDeps } from '../app.ts';
import { id, itemBatch, itemUpdate, newId, nQuery, rowBatch } from '../schemas.ts';
import { validate, validateRows } from '../validate.ts';

/** The wire form of an item: the store keeps epoch ms, the API speaks ISO-8601. */
function itemJson(item: ItemRecord): ResponseOf<'getItem'> {
  return {
    itemId: item.itemId,
    title: item.title,
    categories: item.categories,
    metadata: item.metadata,
    available: item.available,
    createdAt: new Date(item.createdAt).toISOString(),
    updatedAt: new Date(item.updatedAt).toISOString(),
  };
}

export function itemRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    // The batch's shape first, then its rows a slice per turn of the event loop.
    const items = await validateRows(itemBatch.element, validate(rowBatch, jsonBody(c)));
    return c.json({ upserted: await engine.upsertItems(items) } satisfies ResponseOf<'upsertItems'>);
  });

  app.put('/:itemId', async (c) => {
    // Stored (PUT creates), so held to the stricter rule; the other routes only look ids up.
    const itemId = validate(newId, c.req.param('itemId'), 'itemId');
    const body = validate(itemUpdate, jsonBody(c));
    if (body.itemId !== undefined && body.itemId !== itemId) {
      throw new InvalidInputError('itemId in the body must match the itemId in the path', 'itemId');
    }
    await engine.upsertItems([{ ...body, itemId }]);
    return c.json(itemJson(await engine.getItem(itemId)));
  });

  app.get('/:itemId', async (c) => {
    const itemId = validate(id, c.req.param('itemId'), 'itemId');
    return c.json(itemJson(await engine.getItem(itemId)));
  });

  app.delete('/:itemId', async (c) => {
    const itemId = validate(id, c.req.param('itemId'), 'itemId');
    await engine.deleteItem(itemId);
    return c.json({ itemId, available: false } as const satisfies ResponseOf<'deleteItem'>);
  });

  app.get('/:itemId/similar', (c) => {
    const itemId = validate(id, c.req.param('itemId'), 'itemId');
    const n = validate(nQuery, c.req.query('n'), 'n');
    return c.json({ itemId, similar: engine.similarItems(itemId, n) } satisfies ResponseOf<'similarItems'>);
  });

  return app;
}

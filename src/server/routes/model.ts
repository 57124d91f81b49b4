import { Hono } from 'hono';
import type { ResponseOf } from '../api.ts';
import type { AppEnv, RouteDeps } from '../app.ts';

export function modelRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.json(engine.model() satisfies ResponseOf<'model'>));

  // 202: training runs in the background; clients poll GET /v1/model for its outcome.
  app.post('/train', async (c) => c.json({ jobId: (await engine.train()).jobId } satisfies ResponseOf<'train'>, 202));

  return app;
}

/** Operator views: segments, the segment map, live event counts, recorded evaluations. */
export function insightRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/segments', (c) => c.json({ segments: engine.segments() } satisfies ResponseOf<'segments'>));
  app.get('/segments/map', (c) => c.json(engine.segmentMap() satisfies ResponseOf<'segmentMap'>));
  app.get('/stats', async (c) => c.json((await engine.stats()) satisfies ResponseOf<'stats'>));
  app.get('/evaluations', async (c) => c.json((await engine.evaluations()) satisfies ResponseOf<'evaluations'>));
  return app;
}

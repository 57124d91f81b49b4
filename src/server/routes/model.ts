import { Hono } from 'hono';
import type { AppEnv, RouteDeps } from '../app.ts';

export function modelRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.json(engine.model()));

  // 202: training runs in the background; clients poll GET /v1/model for its outcome.
  app.post('/train', (c) => c.json({ jobId: engine.train().jobId }, 202));

  return app;
}

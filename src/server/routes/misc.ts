import { Hono } from 'hono';
import type { RecommendRequest } from '../../engine/types.ts';
import { jsonBody } from '../middleware.ts';
import type { ResponseOf } from '../api.ts';
import type { AppEnv, RouteDeps } from '../app.ts';
import { categoryList, nQuery, sessionRequest } from '../schemas.ts';
import { validate } from '../validate.ts';

/** Routes that belong to no resource: health, popularity and anonymous sessions. Mounted at `/`. */
export function miscRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Outside /v1 so load balancers can probe it without a key.
  app.get('/health', async (c) => c.json((await engine.health()) satisfies ResponseOf<'health'>));

  app.get('/v1/popular', (c) => {
    const request: RecommendRequest = { n: validate(nQuery, c.req.query('n'), 'n') };
    const categories = validate(categoryList, c.req.queries('category'), 'category');
    if (categories) request.categories = categories;
    return c.json({ recommendations: engine.popular(request) } satisfies ResponseOf<'popular'>);
  });

  app.post('/v1/session/recommend', (c) => {
    const { items, n } = validate(sessionRequest, jsonBody(c));
    const result = engine.recommendSession(items, { n });
    return c.json({ modelVersion: result.modelVersion, recommendations: result.recommendations } satisfies ResponseOf<'session'>);
  });

  return app;
}

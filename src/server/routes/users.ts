import { Hono } from 'hono';
import type { RecommendRequest } from '../../engine/types.ts';
import type { ResponseOf } from '../api.ts';
import type { AppEnv, RouteDeps } from '../app.ts';
import { DEFAULT_N, categoryList, daysQuery, diversityQuery, flagQuery, id, idList, nQuery } from '../schemas.ts';
import { validate, validateIfGiven } from '../validate.ts';

export function userRoutes({ engine }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/:userId/recommendations', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    const request: RecommendRequest = { n: validateIfGiven(nQuery, c.req.query('n'), 'n') ?? DEFAULT_N };
    const categories = validateIfGiven(categoryList, c.req.queries('category'), 'category');
    const exclude = validateIfGiven(idList, c.req.queries('exclude'), 'exclude');
    // Absent filters stay absent rather than becoming empty lists the engine must special-case.
    if (categories) request.categories = categories;
    if (exclude) request.exclude = exclude;
    const excludeCategories = validateIfGiven(categoryList, c.req.queries('excludeCategory'), 'excludeCategory');
    if (excludeCategories) request.excludeCategories = excludeCategories;
    if (validateIfGiven(flagQuery, c.req.query('explain'), 'explain')) request.explain = true;
    const diversity = validateIfGiven(diversityQuery, c.req.query('diversity'), 'diversity');
    if (diversity !== undefined) request.diversity = diversity;
    const reshow = validateIfGiven(daysQuery, c.req.query('reshowAfterDays'), 'reshowAfterDays');
    if (reshow !== undefined) request.reshowAfterDays = reshow;
    const { modelVersion, recommendations } = await engine.recommend(userId, request);
    return c.json({ userId, modelVersion, recommendations } satisfies ResponseOf<'recommendations'>);
  });

  app.get('/:userId/similar', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    const n = validate(nQuery, c.req.query('n'), 'n');
    return c.json({ userId, similar: await engine.similarUsers(userId, n) } satisfies ResponseOf<'similarUsers'>);
  });

  app.get('/:userId/profile', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    return c.json((await engine.profile(userId)) satisfies ResponseOf<'profile'>);
  });

  app.get('/:userId/export', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    return c.json((await engine.exportUser(userId)) satisfies ResponseOf<'exportUser'>);
  });

  app.post('/:userId/unflag', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    return c.json((await engine.unflagUser(userId)) satisfies ResponseOf<'unflag'>);
  });

  app.delete('/:userId', async (c) => {
    const userId = validate(id, c.req.param('userId'), 'userId');
    const { deleted } = await engine.deleteUser(userId);
    return c.json({ userId, deleted } satisfies ResponseOf<'deleteUser'>);
  });

  return app;
}

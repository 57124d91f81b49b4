import { Hono } from 'hono';
import { jsonBody } from '../middleware.ts';
import type { AppEnv, RouteDeps } from '../app.ts';
import { feedbackBatch, feedbackEvent, nQuery } from '../schemas.ts';
import { validate } from '../validate.ts';

export function feedbackRoutes({ engine, now }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // One endpoint, two shapes: a single event is the live path (stored, folded in, answered with
  // fresh recommendations); an array is a bulk import, validated in full before anything is stored.
  app.post('/', (c) => {
    const body = jsonBody(c);
    const clock = now();
    if (Array.isArray(body)) {
      const events = validate(feedbackBatch(clock), body);
      const { accepted, duplicates } = engine.importFeedback(events);
      return c.json({ accepted, duplicates });
    }
    const n = validate(nQuery, c.req.query('n'), 'n');
    const event = validate(feedbackEvent(clock), body);
    const result = engine.addFeedback(event, n);
    return c.json({
      accepted: result.accepted,
      duplicates: result.duplicates,
      userId: result.userId,
      modelVersion: result.modelVersion,
      recommendations: result.recommendations,
    });
  });

  return app;
}

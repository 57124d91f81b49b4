import { Hono } from 'hono';
import type { FeedbackInput } from '../../store/types.ts';
import { jsonBody } from '../middleware.ts';
import type { ResponseOf } from '../api.ts';
import type { AppEnv, RouteDeps } from '../app.ts';
import { feedbackEvent, flagQuery, nQuery, rowBatch } from '../schemas.ts';
import { check, validate, validateRows } from '../validate.ts';

/** A row a partial import left out: its index in the batch and why, in the 400 error's terms. */
interface Rejected {
  index: number;
  field: string;
  message: string;
}

export function feedbackRoutes({ engine, now }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // One endpoint, two shapes: a single event is the live path (stored, folded in, answered with
  // fresh recommendations); an array is a bulk import, validated in full before anything is
  // stored, unless `?partial=true` asks to store the valid rows and list the rest.
  app.post('/', async (c) => {
    const body = jsonBody(c);
    const clock = now();
    // Checked for both shapes so a typo fails loudly; it only changes how arrays are handled.
    const partial = validate(flagQuery, c.req.query('partial'), 'partial');
    if (Array.isArray(body)) {
      if (partial) return c.json(await importValid(body, clock));
      // Checked in full before anything is stored, a slice of rows per turn.
      const events = await validateRows(feedbackEvent(clock), validate(rowBatch, body));
      const { accepted, duplicates } = await engine.importFeedback(events);
      return c.json({ accepted, duplicates } satisfies ResponseOf<'feedback'>);
    }
    const n = validate(nQuery, c.req.query('n'), 'n');
    const event = validate(feedbackEvent(clock), body);
    const result = await engine.addFeedback(event, n);
    return c.json({
      accepted: result.accepted,
      duplicates: result.duplicates,
      userId: result.userId,
      modelVersion: result.modelVersion,
      recommendations: result.recommendations,
    } satisfies ResponseOf<'feedback'>);
  });

  /**
   * Stores the valid rows in one import and reports the others with the field and message a
   * strict import would have failed with (`[17].type`), so clients handle both modes alike.
   */
  async function importValid(body: unknown[], clock: number): Promise<ResponseOf<'feedback'> & { rejected: Rejected[] }> {
    const rows = validate(rowBatch, body);
    const schema = feedbackEvent(clock);
    const good: FeedbackInput[] = [];
    const rejected: Rejected[] = [];
    for (let index = 0; index < rows.length; index++) {
      // A slice of rows per turn of the event loop, as for a strict batch.
      if (index > 0 && index % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      const result = check(schema, rows[index], `[${index}]`);
      if (result.ok) good.push(result.data);
      else rejected.push({ index, field: result.field, message: result.message });
    }
    // Nothing valid: nothing to store, and the engine need not see an empty batch.
    const { accepted, duplicates } = good.length > 0 ? await engine.importFeedback(good) : { accepted: 0, duplicates: 0 };
    return { accepted, duplicates, rejected };
  }

  return app;
}

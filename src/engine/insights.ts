import { NotFoundError } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import type { LivingProfiles } from './living.ts';
import { profileOf } from './profile.ts';
import type { ServingState } from './serving-state.ts';
import type { Profile, Segment, SegmentMap, Stats } from './types.ts';

/**
 * What the engine knows about its users, for the dashboard and the profile API: profiles with
 * drift and segment, the segments and their map, event statistics. Owns no state.
 */
export class Insights {
  constructor(
    private readonly store: Store,
    private readonly config: EngineConfig,
    private readonly state: ServingState,
    private readonly profiles: LivingProfiles,
    private readonly catalog: Catalog,
    private readonly clock: () => number,
  ) {}

  /** `userId` is the stored id; the profile carries `rawUserId`, as the client knows the user. */
  async profile(userId: string, rawUserId: string): Promise<Profile> {
    const user = await this.store.getUser(userId);
    if (!user) throw new NotFoundError('userId', rawUserId);
    await this.profiles.refresh(userId, false);
    const history = await this.profiles.history(userId);
    const serving = this.state.current;
    const latent = serving?.model.latent;
    const vector = latent && serving.model.hasProfile(userId) ? latent.userVector(userId) : null;
    const before = vector ? (serving!.baseline?.vector(userId) ?? null) : null;
    return profileOf({ ...user, userId: rawUserId }, history, {
      catalog: this.catalog,
      config: this.config,
      now: this.clock(),
      segment: vector && serving!.segments ? pick(serving!.segments.assign(vector)) : null,
      distance: vector && before ? cosineDistance(vector, before) : null,
      trainedAt: serving?.meta.trainedAt ?? null,
    });
  }

  segments(): Segment[] {
    return this.state.current?.segments?.all() ?? [];
  }

  segmentMap(limit = 2000): SegmentMap {
    const serving = this.state.current;
    const segments = this.segments();
    const latent = serving?.model.latent;
    if (!latent || !serving.segments) return { segments, points: [], explained: [0, 0] };
    const { users, coords, explained } = latent.projectUsers(limit);
    const points = users.map((userId, t) => ({
      userId,
      x: coords[2 * t],
      y: coords[2 * t + 1],
      segment: serving.segments!.assign(latent.userVector(userId)).id,
    }));
    return { segments, points, explained };
  }

  async stats(): Promise<Stats> {
    const since = this.clock() - 30 * 60_000;
    const minutes = new Map<number, Record<string, number>>();
    for (const { minute, type, count } of await this.store.arrivalsSince(since)) {
      const byType = minutes.get(minute) ?? {};
      byType[type] = count;
      minutes.set(minute, byType);
    }
    const byType = (await this.store.countsByType()) as Record<string, number>;
    return {
      feedback: { total: Object.values(byType).reduce((a, b) => a + b, 0), byType },
      eventsPerMinute: [...minutes].map(([minute, counts]) => ({ minute: new Date(minute).toISOString(), byType: counts })),
      quarantinedUsers: this.profiles.quarantined,
    };
  }

  async evaluations(): Promise<Array<{ kind: string; createdAt: string; summary: Record<string, unknown> }>> {
    return (await this.store.evaluations()).map((e) => ({ ...e, createdAt: new Date(e.createdAt).toISOString() }));
  }
}

function pick({ id, label }: Segment): { id: number; label: string } {
  return { id, label };
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let f = 0; f < a.length; f++) {
    dot += a[f] * b[f];
    na += a[f] * a[f];
    nb += b[f] * b[f];
  }
  return na > 0 && nb > 0 ? 1 - dot / Math.sqrt(na * nb) : 0;
}

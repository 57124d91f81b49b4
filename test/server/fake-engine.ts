import type {
  EngineApi,
  EngineMetrics,
  EngineObserver,
  FeedbackResult,
  Health,
  ImportResult,
  ModelInfo,
  Profile,
  RecommendRequest,
  RecommendResult,
  ScoredItem,
  Segment,
  SegmentMap,
  Stats,
  UserExport,
} from '../../src/engine/types.ts';
import { NotFoundError } from '../../src/store/errors.ts';
import type { FeedbackInput, ItemInput, ItemRecord } from '../../src/store/types.ts';

export interface Call {
  method: keyof EngineApi;
  args: unknown[];
}

/** Times the fake stamps on items, so tests can assert exact ISO strings. */
export const CREATED_AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
export const UPDATED_AT = Date.UTC(2024, 5, 6, 7, 8, 9, 10);

export const MODEL_INFO: ModelInfo = {
  version: 3,
  status: 'ready',
  algorithm: 'als',
  params: { factors: 32 },
  trainedAt: '2024-06-01T00:00:00.000Z',
  metrics: { 'ndcg@10': 0.25 },
};

/** What the fake's profile() answers for a known user. */
export function profileOf(userId: string): Profile {
  return {
    userId,
    interactions: 12,
    firstSeen: '2024-01-01T00:00:00.000Z',
    lastSeen: '2024-02-01T00:00:00.000Z',
    updatedAt: '2024-02-01T00:00:01.000Z',
    topCategories: [{ category: 'shoes', weight: 0.75 }],
    segment: { id: 2, label: 'Shoes & Hats' },
    drift: null,
    activity: { last7Days: { view: 3 }, last30Days: { view: 9, purchase: 1 } },
    flags: [],
  };
}

/** `n` deterministic recommendations: rec-1 (score n) … rec-n (score 1). */
export function recs(n: number): ScoredItem[] {
  return Array.from({ length: n }, (_, i) => ({ itemId: `rec-${i + 1}`, score: n - i }));
}

/**
 * A hand-written EngineApi: records every call, answers from the inputs with canned values, and
 * throws NotFoundError for unknown items/users like the real engine. `failNext` injects errors.
 */
export class FakeEngine implements EngineApi {
  readonly calls: Call[] = [];
  readonly items = new Map<string, ItemRecord>();
  readonly users = new Set<string>(['u1']);
  /** Subscribed through observe(); tests call them to play engine events. */
  readonly observers = new Set<EngineObserver>();
  private failure: Error | undefined;

  /** The next engine call throws `error` (after being recorded). */
  failNext(error: Error): void {
    this.failure = error;
  }

  private record(method: keyof EngineApi, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private knownUser(userId: string): void {
    if (!this.users.has(userId)) throw new NotFoundError('userId', userId);
  }

  async health(): Promise<Health> {
    this.record('health');
    return { status: 'ok', model: { version: 3, status: 'ready' }, items: this.items.size, feedback: 42, warnings: [] };
  }

  async upsertItems(items: ItemInput[]): Promise<number> {
    this.record('upsertItems', items);
    for (const input of items) {
      const old = this.items.get(input.itemId);
      this.items.set(input.itemId, {
        itemId: input.itemId,
        title: input.title !== undefined ? input.title : (old?.title ?? null),
        categories: input.categories ?? old?.categories ?? [],
        metadata: input.metadata ?? old?.metadata ?? {},
        available: input.available ?? old?.available ?? true,
        createdAt: old ? old.createdAt : CREATED_AT,
        updatedAt: old ? UPDATED_AT : CREATED_AT,
      });
    }
    return items.length;
  }

  async getItem(itemId: string): Promise<ItemRecord> {
    this.record('getItem', itemId);
    const item = this.items.get(itemId);
    if (!item) throw new NotFoundError('itemId', itemId);
    return item;
  }

  async deleteItem(itemId: string): Promise<void> {
    this.record('deleteItem', itemId);
    const item = this.items.get(itemId);
    if (!item) throw new NotFoundError('itemId', itemId);
    item.available = false;
  }

  async addFeedback(event: FeedbackInput, n: number): Promise<FeedbackResult> {
    this.record('addFeedback', event, n);
    return { accepted: 1, duplicates: 0, userId: event.userId, modelVersion: 3, recommendations: recs(n) };
  }

  async importFeedback(events: FeedbackInput[]): Promise<ImportResult> {
    this.record('importFeedback', events);
    return { accepted: events.length - 1, duplicates: 1 };
  }

  async recommend(userId: string, request: RecommendRequest): Promise<RecommendResult> {
    this.record('recommend', userId, request);
    return { userId, modelVersion: null, recommendations: recs(request.n) };
  }

  recommendSession(itemIds: string[], request: RecommendRequest) {
    this.record('recommendSession', itemIds, request);
    return { modelVersion: 3, recommendations: recs(request.n) };
  }

  similarItems(itemId: string, n: number): ScoredItem[] {
    this.record('similarItems', itemId, n);
    if (!this.items.has(itemId)) throw new NotFoundError('itemId', itemId);
    return recs(n);
  }

  async similarUsers(userId: string, n: number): Promise<Array<{ userId: string; score: number }>> {
    this.record('similarUsers', userId, n);
    this.knownUser(userId);
    return Array.from({ length: n }, (_, i) => ({ userId: `sim-${i + 1}`, score: n - i }));
  }

  popular(request: RecommendRequest): ScoredItem[] {
    this.record('popular', request);
    return recs(request.n);
  }

  async profile(userId: string): Promise<Profile> {
    this.record('profile', userId);
    this.knownUser(userId);
    return profileOf(userId);
  }

  async deleteUser(userId: string): Promise<{ deleted: number }> {
    this.record('deleteUser', userId);
    this.knownUser(userId);
    this.users.delete(userId);
    return { deleted: 7 };
  }

  async unflagUser(userId: string): Promise<{ userId: string; flags: [] }> {
    this.record('unflagUser', userId);
    this.knownUser(userId);
    return { userId, flags: [] };
  }

  segments(): Segment[] {
    this.record('segments');
    return [{ id: 2, label: 'Shoes & Hats', size: 40 }];
  }

  segmentMap(limit?: number): SegmentMap {
    this.record('segmentMap', limit);
    return { segments: [{ id: 2, label: 'Shoes & Hats', size: 40 }], points: [{ userId: 'u1', x: 0.5, y: -0.25, segment: 2 }], explained: [0.5, 0.25] };
  }

  async exportUser(userId: string): Promise<UserExport> {
    this.record('exportUser', userId);
    this.knownUser(userId);
    return { userId, profile: profileOf(userId), feedback: [{ itemId: 'i1', type: 'view', value: null, timestamp: 0 }] };
  }

  async stats(): Promise<Stats> {
    this.record('stats');
    return { feedback: { total: 42, byType: { view: 42 } }, eventsPerMinute: [], quarantinedUsers: 0 };
  }

  async evaluations(): Promise<Array<{ kind: string; createdAt: string; summary: Record<string, unknown> }>> {
    this.record('evaluations');
    return [];
  }

  async train(): Promise<{ jobId: string }> {
    this.record('train');
    return { jobId: 'job-1' };
  }

  model(): ModelInfo {
    this.record('model');
    return MODEL_INFO;
  }

  async metrics(): Promise<EngineMetrics> {
    this.record('metrics');
    return { model: { version: MODEL_INFO.version, ageSeconds: 3600, training: false, trainingProgress: null }, items: this.items.size, feedback: 42, quarantinedUsers: 1, listCache: { hits: 5, misses: 2, items: 20 } };
  }

  /** Wiring, not a call: not recorded, so `calls` stays what the routes asked for. */
  observe(observer: EngineObserver): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }
}

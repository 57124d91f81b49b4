/**
 * Spots users posting faster than a person could: more than `perSecond` events per second on
 * average over a sliding `windowSeconds`. Each active user keeps at most `windowSeconds`
 * (second, count) pairs, so memory stays small and each event is O(window).
 */
export class FloodGuard {
  private readonly recent = new Map<string, Array<[second: number, count: number]>>();

  constructor(
    private readonly perSecond: number,
    private readonly windowSeconds: number,
  ) {}

  /** Records `events` arriving for the user at `now` (ms); true when the user is flooding. */
  record(userId: string, now: number, events = 1): boolean {
    if (this.perSecond <= 0) return false;
    const second = Math.floor(now / 1000);
    const oldest = second - this.windowSeconds;
    const pairs = (this.recent.get(userId) ?? []).filter(([s]) => s > oldest);
    const last = pairs[pairs.length - 1];
    if (last && last[0] === second) last[1] += events;
    else pairs.push([second, events]);
    this.recent.set(userId, pairs);
    if (this.recent.size > 100_000) this.forgetIdle(oldest);
    const total = pairs.reduce((sum, [, count]) => sum + count, 0);
    return total > this.perSecond * this.windowSeconds;
  }

  forget(userId: string): void {
    this.recent.delete(userId);
  }

  private forgetIdle(oldest: number): void {
    for (const [userId, pairs] of this.recent) if (pairs[pairs.length - 1][0] <= oldest) this.recent.delete(userId);
  }
}

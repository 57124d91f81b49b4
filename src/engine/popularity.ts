/** Past this many half-lives from the anchor, scores are rescaled to a new anchor (2^512 ≈ 1e154). */
const MAX_HALVINGS = 512;

/**
 * Time-decayed item popularity, the cold-start answer. Each event adds 2^((t − anchor)/h): the
 * ranking is the same for any fixed anchor, so scores need no rescaling as time passes — recent
 * events simply weigh more — except to keep the powers of two within a double's range.
 */
export class Popularity {
  private readonly scores = new Map<string, number>();
  /**
   * Items best first, kept sorted as events arrive: an event changes one item's score, which then
   * moves only past the items it overtakes, so cold-start answers under a stream of feedback never
   * re-sort the catalog.
   */
  private order: string[] = [];
  private readonly position = new Map<string, number>();
  /** Set by adds while nobody reads (loading the log at startup): the next read sorts once. */
  private unsorted = false;
  private anchor: number | null = null;

  constructor(readonly halfLifeMs: number) {}

  add(itemId: string, timestamp: number, weight = 1): void {
    this.anchor ??= timestamp;
    let halvings = this.halfLifeMs > 0 ? (timestamp - this.anchor) / this.halfLifeMs : 0;
    // 2^1024 overflows a double: 20 years of 7-day half-lives would. Moving the anchor forward
    // scales every score by the same factor, so the order is unchanged.
    if (halvings > MAX_HALVINGS) {
      const scale = 2 ** -halvings;
      for (const [id, score] of this.scores) this.scores.set(id, score * scale);
      this.anchor = timestamp;
      halvings = 0;
    }
    const isNew = !this.scores.has(itemId);
    this.scores.set(itemId, (this.scores.get(itemId) ?? 0) + weight * 2 ** halvings);
    if (this.unsorted) return;
    let pos = this.position.get(itemId);
    if (isNew) pos = this.order.push(itemId) - 1;
    this.settle(itemId, pos!);
  }

  /**
   * Stops keeping the order until the next read: for loading many events at once, where one
   * sort at the end beats moving items one event at a time.
   */
  deferOrder(): void {
    this.unsorted = true;
  }

  /** Items by popularity, best first, ties by id for determinism. */
  ranking(): readonly string[] {
    if (this.unsorted) {
      // Pairs sort several times faster than ids compared through map lookups.
      const pairs = Array.from(this.scores, ([id, score]) => ({ id, score }));
      pairs.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.order = pairs.map((p) => p.id);
      this.order.forEach((id, pos) => this.position.set(id, pos));
      this.unsorted = false;
    }
    return this.order;
  }

  /** A score normalised so the most popular item has 1. */
  score(itemId: string): number {
    const top = this.ranking()[0];
    const max = top === undefined ? 0 : this.scores.get(top)!;
    return max > 0 ? (this.scores.get(itemId) ?? 0) / max : 0;
  }

  /** The best n items passing `keep`, looking no further than the `scan` most popular. */
  top(n: number, keep: (itemId: string) => boolean, scan = Infinity): Array<{ itemId: string; score: number }> {
    const out: Array<{ itemId: string; score: number }> = [];
    const ranking = this.ranking();
    const end = Math.min(ranking.length, scan);
    for (let r = 0; r < end && out.length < n; r++) {
      if (keep(ranking[r])) out.push({ itemId: ranking[r], score: this.score(ranking[r]) });
    }
    return out;
  }

  /** Moves the item at `pos` up or down to where its score now belongs. */
  private settle(itemId: string, pos: number): void {
    const order = this.order;
    while (pos > 0 && this.precedes(itemId, order[pos - 1])) {
      order[pos] = order[pos - 1];
      this.position.set(order[pos], pos);
      pos--;
    }
    while (pos < order.length - 1 && this.precedes(order[pos + 1], itemId)) {
      order[pos] = order[pos + 1];
      this.position.set(order[pos], pos);
      pos++;
    }
    order[pos] = itemId;
    this.position.set(itemId, pos);
  }

  private precedes(a: string, b: string): boolean {
    const sa = this.scores.get(a)!;
    const sb = this.scores.get(b)!;
    return sa > sb || (sa === sb && a < b);
  }
}

/**
 * Time-decayed item popularity, the cold-start answer. Each event adds 2^((t − anchor)/h):
 * the ranking is the same for any fixed anchor, so adding an event is O(1) and nothing has to
 * be rescaled as time passes — recent events simply weigh more than old ones.
 */
/** Past this many half-lives from the anchor, scores are rescaled to a new anchor (2^512 ≈ 1e154). */
const MAX_HALVINGS = 512;

export class Popularity {
  private readonly scores = new Map<string, number>();
  private sorted: string[] | null = null;
  private anchor: number | null = null;

  constructor(private readonly halfLifeMs: number) {}

  add(itemId: string, timestamp: number, weight = 1): void {
    this.anchor ??= timestamp;
    let halvings = this.halfLifeMs > 0 ? (timestamp - this.anchor) / this.halfLifeMs : 0;
    // 2^1024 overflows a double: 20 years of 7-day half-lives would. Moving the anchor forward
    // scales every score by the same factor, so the ranking is unchanged.
    if (halvings > MAX_HALVINGS) {
      const scale = 2 ** -halvings;
      for (const [id, score] of this.scores) this.scores.set(id, score * scale);
      this.anchor = timestamp;
      halvings = 0;
    }
    this.scores.set(itemId, (this.scores.get(itemId) ?? 0) + weight * 2 ** halvings);
    this.sorted = null;
  }

  remove(itemId: string): void {
    this.scores.delete(itemId);
    this.sorted = null;
  }

  /** Items by popularity, best first, ties by id for determinism. */
  ranking(): string[] {
    this.sorted ??= [...this.scores.keys()].sort((a, b) => this.scores.get(b)! - this.scores.get(a)! || (a < b ? -1 : 1));
    return this.sorted;
  }

  /** A score normalised so the most popular item has 1. */
  score(itemId: string): number {
    const top = this.ranking()[0];
    const max = top === undefined ? 0 : this.scores.get(top)!;
    return max > 0 ? (this.scores.get(itemId) ?? 0) / max : 0;
  }

  /** The best n items passing `keep`. */
  top(n: number, keep: (itemId: string) => boolean): Array<{ itemId: string; score: number }> {
    const out: Array<{ itemId: string; score: number }> = [];
    for (const itemId of this.ranking()) {
      if (out.length >= n) break;
      if (keep(itemId)) out.push({ itemId, score: this.score(itemId) });
    }
    return out;
  }
}

import { IdMap } from '../data/id-map.ts';
import { UnknownIdError } from '../errors.ts';
import { CoreOwner } from './core-owner.ts';
import { History } from './history.ts';
import type { Contribution, Explanation, UserInteraction } from './types.ts';

/**
 * What the models that score from a user's history rather than a user vector (item-kNN, EASE,
 * popularity) share: their ids, the history each user is known by, and the verbs that only read
 * them. Each subclass fills `users`, `items` and `history` when it fits or loads.
 */
export abstract class HistoryModel extends CoreOwner {
  protected users = new IdMap();
  protected items = new IdMap();
  protected history = new History(null);

  get userCount(): number {
    return this.users.size;
  }

  get itemCount(): number {
    return this.items.size;
  }

  hasUser(userId: string): boolean {
    return this.fitted && this.users.has(userId);
  }

  hasProfile(userId: string): boolean {
    const u = this.hasUser(userId) ? this.users.get(userId) : -1;
    return u >= 0 && this.history.row(u).indices.length > 0;
  }

  hasItem(itemId: string): boolean {
    return this.fitted && this.items.has(itemId);
  }

  historyLength(userId: string): number {
    return this.hasUser(userId) ? this.history.row(this.userIndex(userId)).indices.length : 0;
  }

  userHistory(userId: string): UserInteraction[] {
    const row = this.history.row(this.userIndex(userId));
    return Array.from(row.indices, (i, t) => ({ itemId: this.items.id(i), value: row.values[t] }));
  }

  protected userIndex(userId: string): number {
    this.assertReady();
    const u = this.users.get(userId);
    if (u < 0) throw new UnknownIdError('user', userId);
    return u;
  }

  protected itemIndex(itemId: string): number {
    this.assertReady();
    const i = this.items.get(itemId);
    if (i < 0) throw new UnknownIdError('item', itemId);
    return i;
  }
}

/** An explanation from every history item's exact term: the score is their sum, the `n` largest (by size) are shown. */
export function explanationOf(all: Contribution[], n: number): Explanation {
  const contributions = all
    .filter((c) => c.weight !== 0)
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, n);
  return { score: all.reduce((s, c) => s + c.weight, 0), contributions };
}

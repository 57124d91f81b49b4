/**
 * Maps external string ids to dense indices 0..size-1 and back. This is the one place ids
 * become indices; everything below the model layer speaks indices only.
 */
export class IdMap {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];

  static from(ids: Iterable<string>): IdMap {
    const map = new IdMap();
    for (const id of ids) map.add(id);
    return map;
  }

  get size(): number {
    return this.ids.length;
  }

  /** The index of `id`, adding it when new. */
  add(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.index.set(id, i);
      this.ids.push(id);
    }
    return i;
  }

  /** The index of `id`, or -1 when unknown. */
  get(id: string): number {
    return this.index.get(id) ?? -1;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** Gives index a new id (erasure replaces a user's id with a tombstone). */
  rename(index: number, id: string): void {
    this.index.delete(this.ids[index]);
    this.ids[index] = id;
    this.index.set(id, index);
  }

  id(index: number): string {
    return this.ids[index];
  }

  toArray(): string[] {
    return this.ids.slice();
  }
}

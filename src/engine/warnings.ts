/** How many warnings /health keeps: the newest, so a recurring problem cannot grow memory. */
const KEEP = 50;

/**
 * Problems the engine recovered from (a corrupt model skipped, a retrain with nothing to train
 * on, a failed fold-in answered from popularity), shown on /health. A warning repeated
 * back-to-back is kept once.
 */
export class Warnings {
  private readonly list: string[] = [];

  add(message: string): void {
    if (this.list.at(-1) === message) return;
    this.list.push(message);
    if (this.list.length > KEEP) this.list.shift();
  }

  all(): string[] {
    return [...this.list];
  }
}

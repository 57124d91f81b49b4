import type { EngineObserver } from './types.ts';

/** The engine's observers. Instrumentation must never break the work it watches: a throwing observer is ignored. */
export class Observers {
  private readonly all = new Set<EngineObserver>();

  add(observer: EngineObserver): () => void {
    this.all.add(observer);
    return () => void this.all.delete(observer);
  }

  get size(): number {
    return this.all.size;
  }

  notify(call: (observer: EngineObserver) => void): void {
    for (const observer of this.all) {
      try {
        call(observer);
      } catch {
        // ignored: see EngineObserver
      }
    }
  }
}

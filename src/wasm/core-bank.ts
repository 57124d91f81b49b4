import { Core } from './core.ts';

/**
 * Spare cores for models that come and go — a long-running engine loads a new model at every
 * retrain. A model takes a core when it is made and gives it back when disposed; the core is
 * reset and handed to the next model instead of waiting for a garbage collection that may not
 * come (see Core.reset). At most `maxSpare` idle cores are kept; beyond that they are dropped.
 *
 * Memory stays at the high-water mark of the models that used it, so a process holding N live
 * models plus the spares has a bounded footprint however many models it has loaded.
 */
export class CoreBank {
  private readonly spare: Core[] = [];
  private made = 0;

  constructor(private readonly maxSpare = 2) {}

  /** A reset spare core, or a new one when none is idle. */
  take(): Core {
    const core = this.spare.pop();
    if (core) return core;
    this.made++;
    return new Core();
  }

  /** Returns a core no one will use again; it is reset now. Giving one twice is an error. */
  give(core: Core): void {
    if (this.spare.includes(core)) throw new Error('CoreBank: core given back twice');
    if (this.spare.length >= this.maxSpare) return;
    core.reset();
    this.spare.push(core);
  }

  /** Cores this bank has constructed (live models plus spares, plus any it dropped). */
  get created(): number {
    return this.made;
  }

  /** Idle cores waiting for a model. */
  get idle(): number {
    return this.spare.length;
  }
}

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
/** Bytes zeroed per turn of the event loop while a returned core is reset (about a millisecond). */
const RESET_SLICE_BYTES = 4 << 20;

export class CoreBank {
  private readonly spare: Core[] = [];
  /** Given back, not yet fully reset: zeroed a slice per turn of the event loop. */
  private readonly resetting: Core[] = [];
  private made = 0;
  private scheduled = false;

  constructor(private readonly maxSpare = 2) {}

  /** A reset spare core, or a new one when none is idle. */
  take(): Core {
    const core = this.spare.pop() ?? this.resetting.shift();
    if (core) {
      core.reset(); // finishes a reset still under way (a no-op for a spare)
      return core;
    }
    this.made++;
    return new Core();
  }

  /**
   * Returns a core no one will use again; it is reset in slices between turns of the event loop
   * (a retired model's core can hold tens of megabytes). Giving one twice is an error.
   */
  give(core: Core): void {
    if (this.spare.includes(core) || this.resetting.includes(core)) throw new Error('CoreBank: core given back twice');
    if (this.spare.length + this.resetting.length >= this.maxSpare) return;
    this.resetting.push(core);
    this.scheduleReset();
  }

  private scheduleReset(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // unref'd: a pending reset never keeps a process (or a training thread) alive.
    setImmediate(() => {
      this.scheduled = false;
      const core = this.resetting[0];
      if (!core) return;
      if (core.resetStep(RESET_SLICE_BYTES)) this.spare.push(this.resetting.shift()!);
      if (this.resetting.length > 0) this.scheduleReset();
    }).unref();
  }

  /** Cores this bank has constructed (live models plus spares, plus any it dropped). */
  get created(): number {
    return this.made;
  }

  /** Idle cores waiting for a model (reset or being reset). */
  get idle(): number {
    return this.spare.length + this.resetting.length;
  }
}

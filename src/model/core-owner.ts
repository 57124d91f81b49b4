import { ModelStateError } from '../errors.ts';
import { Core } from '../wasm/core.ts';
import type { CoreBank } from '../wasm/core-bank.ts';
import type { Algorithm, ModelOptions } from './types.ts';

/**
 * The lifecycle every model shares: the WebAssembly core it computes in (taken from a CoreBank
 * when one is given, so a process that loads model after model reuses their memory) and the
 * fitted / disposed state that guards every use of that core.
 */
export abstract class CoreOwner {
  abstract readonly algorithm: Algorithm;
  protected readonly core: Core;
  /** Set once fit() or a load completed; cleared when a failed fit may have left memory half-written. */
  protected fitted = false;
  /** Where the core came from and goes back to on dispose (null: the garbage collector's). */
  private readonly cores: CoreBank | null;
  private disposed = false;

  protected constructor(options: ModelOptions) {
    this.cores = options.cores ?? null;
    this.core = this.cores?.take() ?? new Core();
  }

  /** Gives the core back for reuse; the model refuses every call afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fitted = false;
    this.cores?.give(this.core);
  }

  /** Before (re)writing the core: a disposed model's memory belongs to another model now. */
  protected assertLive(): void {
    if (this.disposed) throw new ModelStateError(`${this.algorithm} model was disposed: its memory belongs to another model now`);
  }

  protected assertReady(): void {
    if (!this.fitted) throw new ModelStateError(`${this.algorithm} model is not fitted: call fit() or load a saved model first`);
  }
}

/** Input that breaks a documented rule; the message states the rule. */
export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** A user or item id the model has never seen. */
export class UnknownIdError extends Error {
  constructor(
    readonly kind: 'user' | 'item',
    readonly id: string,
  ) {
    super(`unknown ${kind} '${id}': it was not in the training data${kind === 'user' ? ' and was never folded in' : ''}`);
    this.name = 'UnknownIdError';
  }
}

/** The model cannot be used: not fitted, or training produced non-finite numbers. */
export class ModelStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelStateError';
  }
}

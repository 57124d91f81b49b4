/** The library surface: models, data, engine, storage and the HTTP app. */
export { Interactions, type Interaction } from './data/interactions.ts';
export { createModel, loadModel, isExplicit, ALGORITHMS } from './model/index.ts';
export type { Algorithm, Recommender, RecommendOptions, Scored, ScoredUser, Explanation, UserInteraction } from './model/index.ts';
export { InvalidInputError, UnknownIdError, ModelStateError } from './errors.ts';
export { NotFoundError, StoreUnavailableError, CorruptModelError, IncompatibleSchemaError } from './store/errors.ts';
export { Engine } from './engine/engine.ts';
export { DEFAULT_CONFIG, type EngineConfig, type EngineConfigInput, type SignalRule } from './engine/config.ts';
export { SqliteStore } from './store/sqlite.ts';
export type { Store, FeedbackInput, FeedbackType, ItemInput, ItemRecord } from './store/types.ts';
export type { OpenOptions } from './store/sqlite.ts';
export type { FeedbackResult, ModelInfo, RecommendRequest, RecommendResult, ScoredItem } from './engine/types.ts';
export { createApp, type AppOptions } from './server/app.ts';

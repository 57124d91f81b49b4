// The module's exports: numbers and pointers only. The host owns memory and lays out every
// buffer; nothing here allocates, so several instances (worker threads) can share one memory.
export { scoreItems, selectTop } from './topk';
export { vecDot } from './exports-vec';
export { gram, alsExplicitSolve, alsImplicitSolveCG, alsImplicitSolveCholesky, alsScratchFloats } from './als';
export { choleskySolve } from './linalg';
export { rngSeed } from './rng';
export { shuffle, sgdEpoch } from './sgd';
export { itemNorms, cosineNeighbors, cosineNeighborsOf, knnScores } from './knn';
export { kmeansAssign, kmeansUpdate } from './kmeans';
export { covariance, project } from './pca';
export { easeGram, easeInvertBlock, easePack, easeSweepRows, easeFinish, easeScores, easeDowndate } from './ease';
export { easeMirror, easeProject, easeDualDiagonal, easeDualRows } from './ease-dual';
export { ivfAssign, ivfGather, ivfScan } from './ivf';

/** First byte the host may use: everything below holds this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

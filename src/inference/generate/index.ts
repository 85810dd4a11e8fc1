export { analyticReference, analyticSpec, buildAnalyticModel, channelMean, type AnalyticOptions, type AnalyticSpec } from './analytic.js';
export { buildDptModel, type BuiltModel } from './dpt/build.js';
export { DEFAULT_SEED, DPT_CONFIGS, dptPreprocessSpec, type DptConfig, type DptConfigName } from './dpt/config.js';
export { countInitializerElements, decodeMetadata } from './graph.js';
export { readOnnxMetadata } from './metadata.js';
export {
  ANALYTIC_SLOW_OPS, ensureGeneratedModel, GENERATED_MODELS, GENERATOR_VERSION, HASH_KEY, isGeneratedModelName, recipeHash,
  type GeneratedModelInfo, type GeneratedModelName,
} from './recipes.js';

import { buildAnalyticModel } from './analytic.js';
import { buildDptModel } from './dpt/build.js';
import type { Recipe } from './recipes.js';

export { metadataField } from './graph.js';

/** The bytes of a generated model, before its recipe hash is appended. */
export function buildRecipe(recipe: Recipe): Uint8Array {
  return recipe.kind === 'analytic' ? buildAnalyticModel(recipe.options) : buildDptModel(recipe.config, recipe.seed).bytes;
}

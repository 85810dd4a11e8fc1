import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DepthVideoError, errorText } from '../../errors.js';
import { generatedModelsDir } from '../../paths.js';
import type { AnalyticOptions } from './analytic.js';
import { DEFAULT_SEED, DPT_CONFIGS, type DptConfig } from './dpt/config.js';
import { readOnnxMetadata } from './metadata.js';

/**
 * The generated models by name, and the file of each on disk: what a run
 * needs at start-up. The generators themselves (build-recipe.ts) load only
 * when a model has to be built.
 */

/**
 * Bump when a generator change alters the bytes of an existing recipe, so
 * models cached on disk are rebuilt instead of silently going stale.
 */
export const GENERATOR_VERSION = 4;

/**
 * Rounds of 512x512 MatMul in `analytic-slow`. Each costs ~2.5 ms of CPU
 * here, so a frame takes ~100 ms with 2 idle threads, ~200 ms with one, and
 * more when the cores are shared.
 */
export const ANALYTIC_SLOW_OPS = 80;

export const HASH_KEY = 'depth_video.recipe_hash';

export type Recipe =
  | { readonly kind: 'analytic'; readonly options: AnalyticOptions }
  | { readonly kind: 'dpt'; readonly config: DptConfig; readonly seed: number };

export interface GeneratedModelInfo {
  readonly description: string;
  readonly recipe: Recipe;
}

export const GENERATED_MODELS = {
  analytic: {
    description: 'depth = mean of the RGB channels; any input size; for tests',
    recipe: { kind: 'analytic', options: {} },
  },
  'analytic-slow': {
    description: `analytic with ${ANALYTIC_SLOW_OPS} dummy 512x512 MatMuls: same output, deliberately slow; for scheduler tests`,
    recipe: { kind: 'analytic', options: { slowOps: ANALYTIC_SLOW_OPS } },
  },
  'dpt-tiny': {
    description: 'small DPT (ViT patch 16) with seeded random weights; untrained, fast',
    recipe: { kind: 'dpt', config: DPT_CONFIGS['dpt-tiny'], seed: DEFAULT_SEED },
  },
  'dpt-vits14-518': {
    description: 'DPT with a ViT-S/14 encoder, Depth-Anything-V2-Small sized (~24.8M parameters), seeded random weights; untrained',
    recipe: { kind: 'dpt', config: DPT_CONFIGS['dpt-vits14-518'], seed: DEFAULT_SEED },
  },
} as const satisfies Record<string, GeneratedModelInfo>;

export type GeneratedModelName = keyof typeof GENERATED_MODELS;

export function isGeneratedModelName(name: string): name is GeneratedModelName {
  return Object.prototype.hasOwnProperty.call(GENERATED_MODELS, name);
}

/** Hash of everything that decides a generated model's bytes. */
export function recipeHash(name: GeneratedModelName): string {
  const recipe = GENERATED_MODELS[name].recipe;
  return createHash('sha256').update(JSON.stringify({ generator: GENERATOR_VERSION, name, recipe })).digest('hex').slice(0, 16);
}

function storedHash(path: string): string | undefined {
  try {
    return readOnnxMetadata(path)[HASH_KEY];
  } catch {
    return undefined; // unreadable or half-written by an old version: rebuild
  }
}

/**
 * Path of `<dir>/<name>.onnx`, generating it when missing or built from an
 * older recipe. The file appears atomically (temp file + rename), so
 * concurrent test workers never read half a model; if two build at once,
 * both write identical bytes and the last rename wins.
 */
export async function ensureGeneratedModel(name: string, dir: string = generatedModelsDir()): Promise<string> {
  if (!isGeneratedModelName(name)) {
    const known = Object.keys(GENERATED_MODELS).join(', ');
    throw new DepthVideoError('MODEL_UNKNOWN', `"${name}" is not a generated model; known generated models: ${known}`);
  }
  const path = join(dir, `${name}.onnx`);
  const hash = recipeHash(name);
  if (existsSync(path) && storedHash(path) === hash) return path;

  // The generators (and protobufjs) load only when a model is built.
  const { buildRecipe, metadataField } = await import('./build-recipe.js');
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    // Appending the hash on disk avoids a second in-memory copy of a large model.
    writeFileSync(tmp, buildRecipe(GENERATED_MODELS[name].recipe));
    appendFileSync(tmp, metadataField(HASH_KEY, hash));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new DepthVideoError('OUTPUT_DIR', `cannot write generated model ${path}: ${errorText(e)}; make the folder writable or set DEPTH_VIDEO_MODELS`, {
      file: path,
      cause: e,
    });
  }
  return path;
}

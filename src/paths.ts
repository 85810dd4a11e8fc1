import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DepthVideoError } from './errors.js';

/** Root of the installed package or checkout (the folder holding package.json). */
export const packageRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where model files live: `models/` of a git checkout (so a developer sees
 * them beside the manifest), otherwise the user's cache dir, because a global
 * install's folder is often not writable. DEPTH_VIDEO_MODELS overrides both.
 */
export function modelsDir(): string {
  const env = process.env.DEPTH_VIDEO_MODELS;
  if (env) return resolve(env);
  if (existsSync(join(packageRoot, '.git'))) return join(packageRoot, 'models');
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'depth-video', 'models');
}

/** Generated (untrained) test models, kept apart from downloaded weights. */
export function generatedModelsDir(): string {
  return join(modelsDir(), 'generated');
}

/** This package's version (recordings and --version say which build made them). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const manifestPath: string = join(packageRoot, 'models', 'manifest.json');
export const pipelinesDir: string = join(packageRoot, 'pipelines');

/**
 * A compiled script of this package that runs on its own (a worker thread, a
 * child process), e.g. `inference/inference-worker.js`: beside this module
 * when running from dist/; tests run the TypeScript sources and use the
 * build in dist/. null when it was never built.
 */
export function builtScript(relativeToDist: string): string | null {
  for (const base of [dirname(fileURLToPath(import.meta.url)), join(packageRoot, 'dist')]) {
    const p = join(base, relativeToDist);
    if (existsSync(p)) return p;
  }
  return null;
}

/** builtScript for a thread the run cannot go without: one line saying what to do when it was never built. */
export function requireBuiltScript(relativeToDist: string, what: string): string {
  const path = builtScript(relativeToDist);
  if (!path) throw new DepthVideoError('PIPELINE_CONFIG', `the ${what} dist/${relativeToDist} is missing: run npm run build`);
  return path;
}

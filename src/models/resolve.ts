import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve as resolvePath } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { modelsDir } from '../paths.js';
import { ensureGeneratedModel, GENERATED_MODELS, isGeneratedModelName } from '../inference/generate/index.js';
import { ensureConverted, isCheckpointFile } from './converted.js';
import { downloadFile } from './download.js';
import { closeNames, entryForFile, findEntry, loadManifest, type Manifest, type ManifestEntry } from './manifest.js';

/** Generated test models, listed for "did you mean" even though they live elsewhere. */
export const GENERATED_MODEL_NAMES: readonly string[] = Object.keys(GENERATED_MODELS);

export interface ResolveOptions {
  allowDownload: boolean;
  onProgress?: (done: number, total: number | undefined) => void;
  /** Called with one line, e.g. the licence of a restricted model being fetched. */
  onWarning?: (line: string) => void;
  /** Folder for named models; default modelsDir(). */
  dir?: string;
  signal?: AbortSignal;
  /** For tests: a manifest other than models/manifest.json, and a fetch stand-in. */
  manifest?: Manifest;
  fetchImpl?: typeof fetch;
}

export interface ResolvedModel {
  path: string;
  entry: ManifestEntry | null;
}

function looksLikePath(s: string): boolean {
  return /\.onnx$/i.test(s) || isCheckpointFile(s) || s.includes('/') || s.includes('\\');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function modelFilePath(name: string, dir: string = modelsDir()): string {
  return join(dir, `${name}.onnx`);
}

/** Where a user should put a model file by hand, in words. */
function byHand(entry: ManifestEntry, file: string): string {
  return entry.url ? `download ${entry.url} and save it as ${file}` : `save an ONNX export as ${file}`;
}

/**
 * Turns what a user typed after --model into a file on disk: a path is taken
 * as is, a PyTorch checkpoint (.pth/.pt/.safetensors) is converted into the
 * models cache on first use, a generated test model is built, a manifest name
 * is looked up in the models folder and pulled when allowed.
 */
export async function resolveModel(nameOrPath: string, opts: ResolveOptions): Promise<ResolvedModel> {
  const manifest = opts.manifest ?? loadManifest();
  if (looksLikePath(nameOrPath) || isFile(nameOrPath)) {
    const path = resolvePath(nameOrPath);
    if (!isFile(path)) {
      throw new DepthVideoError(
        'MODEL_MISSING',
        `model file ${nameOrPath} does not exist; give the path of an .onnx file, a PyTorch checkpoint or a name from \`depth-video models list\``,
        { file: nameOrPath },
      );
    }
    if (isCheckpointFile(path)) {
      const dir = join(opts.dir ?? modelsDir(), 'converted');
      return { path: await ensureConverted(path, { dir, onNote: opts.onWarning, onProgress: opts.onProgress }), entry: null };
    }
    return { path, entry: entryForFile(basename(path), manifest) };
  }

  if (isGeneratedModelName(nameOrPath)) {
    return { path: await ensureGeneratedModel(nameOrPath, opts.dir ? join(opts.dir, 'generated') : undefined), entry: null };
  }

  const entry = findEntry(nameOrPath, manifest);
  if (!entry) {
    const candidates = [...manifest.models.map((m) => m.name), ...GENERATED_MODEL_NAMES];
    const close = closeNames(nameOrPath, candidates);
    const hint = close.length ? `did you mean ${close.join(', ')}?` : `known models: ${candidates.join(', ')}`;
    throw new DepthVideoError('MODEL_UNKNOWN', `unknown model "${nameOrPath}": ${hint} (see \`depth-video models list\`, or give a path to an .onnx file)`);
  }

  const file = modelFilePath(entry.name, opts.dir ?? modelsDir());
  if (existsSync(file)) return { path: file, entry };

  if (!entry.url) {
    throw new DepthVideoError(
      'MODEL_MISSING',
      `no ONNX file is published for ${entry.name}: export ${entry.pytorchUrl ?? 'the official checkpoint'} to ONNX and save it as ${file}`,
      { file },
    );
  }
  if (!opts.allowDownload) {
    throw new DepthVideoError(
      'MODEL_MISSING',
      `model ${entry.name} is not downloaded: run \`depth-video models pull ${entry.name}\` or ${byHand(entry, file)}`,
      { file },
    );
  }
  if (entry.restricted) opts.onWarning?.(`${entry.name}: ${entry.restrictedReason ?? `licence ${entry.license} restricts its use`}`);
  await downloadFile(entry.url, file, {
    sha256: entry.sha256,
    expectedSize: entry.sizeBytes ?? undefined,
    onProgress: opts.onProgress,
    signal: opts.signal,
    fetchImpl: opts.fetchImpl,
  });
  return { path: file, entry };
}

import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve as resolvePath } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { modelsDir } from '../paths.js';
import { ensureGeneratedModel, GENERATED_MODELS, isGeneratedModelName } from '../inference/generate/recipes.js';
import { ensureConverted, isCheckpointFile, type CheckpointChoice } from './converted.js';
import { downloadFile } from './download.js';
import {
  closeNames,
  DEFAULT_VARIANT,
  entryForFile,
  findEntry,
  loadManifest,
  downloadFileName,
  splitModelRef,
  variantsOf,
  type Manifest,
  type ManifestEntry,
  type VariantDownload,
} from './manifest.js';

/** Generated test models, listed for "did you mean" even though they live elsewhere. */
export const GENERATED_MODEL_NAMES: readonly string[] = Object.keys(GENERATED_MODELS);

export interface ResolveOptions {
  allowDownload: boolean;
  onProgress?: (done: number, total: number | undefined) => void;
  /** Called with one line, e.g. the licence of a restricted model being fetched. */
  onWarning?: (line: string) => void;
  /** Called with one line of what is being done, e.g. a checkpoint converted on first use (default: onWarning). */
  onNote?: (line: string) => void;
  /** Folder for named models; default modelsDir(). */
  dir?: string;
  signal?: AbortSignal;
  /** For tests: a manifest other than models/manifest.json, and a fetch stand-in. */
  manifest?: Manifest;
  fetchImpl?: typeof fetch;
  /** `--family` / `--max-depth` for a PyTorch checkpoint; refused for any other model. */
  checkpoint?: CheckpointChoice;
}

export interface ResolvedModel {
  path: string;
  entry: ManifestEntry | null;
  /** The manifest file chosen (its variant, url, checksum); null for paths and generated models. */
  download: VariantDownload | null;
  /** True when this call downloaded the file. */
  fetched: boolean;
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

/** How a user names one file of an entry: the bare name for the default variant. */
export function modelRef(name: string, variant: string): string {
  return variant === DEFAULT_VARIANT ? name : `${name}:${variant}`;
}

/** The file `--model <name>[:<variant>]` asks for; an unknown variant is one line listing the known ones. */
function pickVariant(entry: ManifestEntry, variant: string | null): VariantDownload {
  const all = variantsOf(entry);
  const found = all.find((v) => v.variant === (variant ?? DEFAULT_VARIANT));
  if (found) return found;
  const names = all.map((v) => v.variant);
  const example = names.length > 1 ? `--model ${entry.name}:${names[1]}` : `--model ${entry.name}`;
  throw new DepthVideoError(
    'MODEL_UNKNOWN',
    `unknown variant "${variant}" of ${entry.name}: available ${names.join(', ')} (e.g. ${example}; sizes in \`depth-video models list\`)`,
  );
}

/** Where a user should put a model file by hand, in words. */
function byHand(url: string | null, file: string): string {
  return url ? `download ${url} and save it as ${file}` : `save an ONNX export as ${file}`;
}

/**
 * Turns what a user typed after --model into a file on disk: a path is taken
 * as is, a PyTorch checkpoint (.pth/.pt/.safetensors) is converted into the
 * models cache on first use, a generated test model is built, a manifest name
 * is looked up in the models folder and pulled when allowed.
 */
export async function resolveModel(nameOrPath: string, opts: ResolveOptions): Promise<ResolvedModel> {
  const manifest = opts.manifest ?? loadManifest();
  const choice = opts.checkpoint ?? {};
  const chosen = [choice.family !== undefined ? '--family' : null, choice.maxDepth !== undefined ? '--max-depth' : null].filter((f) => f !== null);
  if (chosen.length && !isCheckpointFile(nameOrPath)) {
    throw new DepthVideoError('USAGE', `${chosen.join(' and ')} only ${chosen.length === 1 ? 'applies' : 'apply'} to a PyTorch checkpoint converted on first use (--model file.pth/.pt/.safetensors), not to ${nameOrPath}`);
  }
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
      return { path: await ensureConverted(path, { ...choice, dir, onNote: opts.onNote ?? opts.onWarning, onProgress: opts.onProgress }), entry: null, download: null, fetched: false };
    }
    return { path, entry: entryForFile(basename(path), manifest), download: null, fetched: false };
  }

  if (isGeneratedModelName(nameOrPath)) {
    return { path: await ensureGeneratedModel(nameOrPath, opts.dir ? join(opts.dir, 'generated') : undefined), entry: null, download: null, fetched: false };
  }

  const { name, variant } = splitModelRef(nameOrPath);
  if (variant !== null && isGeneratedModelName(name)) {
    throw new DepthVideoError('MODEL_UNKNOWN', `the generated model ${name} has no variants: use --model ${name}`);
  }
  const entry = findEntry(name, manifest);
  if (!entry) {
    const candidates = [...manifest.models.map((m) => m.name), ...GENERATED_MODEL_NAMES];
    const close = closeNames(name, candidates);
    const hint = close.length ? `did you mean ${close.join(', ')}?` : `known models: ${candidates.join(', ')}`;
    throw new DepthVideoError('MODEL_UNKNOWN', `unknown model "${name}": ${hint} (see \`depth-video models list\`, or give a path to an .onnx file)`);
  }
  const download = pickVariant(entry, variant);
  const ref = modelRef(entry.name, download.variant);

  const dir = opts.dir ?? modelsDir();
  const file = join(dir, downloadFileName(entry.name, download));
  // A checkpoint is converted once into the same cache as `--model <file.pt>` (keyed by its sha256).
  const ready = async (fetched: boolean): Promise<ResolvedModel> => ({
    path: download.checkpoint ? await ensureConverted(file, { dir: join(dir, 'converted'), onNote: opts.onNote ?? opts.onWarning, onProgress: opts.onProgress }) : file,
    entry,
    download,
    fetched,
  });
  if (existsSync(file)) return ready(false);

  if (!download.url) {
    const what = entry.pytorchUrl ? `depth-video cannot convert ${entry.family} checkpoints yet: export ${entry.pytorchUrl}` : 'export the official checkpoint';
    throw new DepthVideoError('MODEL_MISSING', `no ONNX file is published for ${entry.name}: ${what} to ONNX and save it as ${file}`, { file });
  }
  if (!opts.allowDownload) {
    throw new DepthVideoError(
      'MODEL_MISSING',
      `model ${ref} is not downloaded: run \`depth-video models pull ${ref}\` or ${byHand(download.url, file)}`,
      { file },
    );
  }
  if (entry.restricted) opts.onWarning?.(`${entry.name}: ${entry.restrictedReason ?? `licence ${entry.license} restricts its use`}`);
  await downloadFile(download.url, file, {
    sha256: download.sha256,
    expectedSize: download.sizeBytes ?? undefined,
    onProgress: opts.onProgress,
    signal: opts.signal,
    fetchImpl: opts.fetchImpl,
  });
  return ready(true);
}

import { readFileSync } from 'node:fs';
import { DepthVideoError, errorText } from '../errors.js';
import { manifestPath } from '../paths.js';
import type { PreprocessSpec } from '../types.js';
import { canConvertTo } from '../convert/catalogue.js';
import { isFamilyName, type FamilyName } from '../inference/families.js';

export interface ManifestAlternative {
  readonly url: string;
  readonly sizeBytes: number | null;
  readonly sha256: string | null;
  readonly note?: string;
}

/** Another precision of the same export (fp16, quantized, q4f16, …), downloaded to its own file. */
export interface ManifestVariant {
  readonly url: string;
  /** Exact size; checks downloads. */
  readonly sizeBytes: number | null;
  /** The size the publisher's file listing shows (3 significant digits), for display only. */
  readonly approxSizeBytes?: number | null;
  readonly sha256: string | null;
  readonly note?: string;
}

export interface ManifestEntry {
  readonly name: string;
  readonly family: FamilyName;
  /** ONNX download (the fp32 variant); null when only a PyTorch checkpoint is published. */
  readonly url: string | null;
  /** The official PyTorch checkpoint: pulled and converted when `url` is null and the converter knows the family. */
  readonly pytorchUrl?: string;
  /** Of the checkpoint, where published (sizeBytes and sha256 are the ONNX download's). */
  readonly pytorchSizeBytes?: number | null;
  readonly pytorchSha256?: string | null;
  readonly sizeBytes: number | null;
  readonly approxSizeBytes?: number | null;
  readonly sha256: string | null;
  readonly license: string;
  readonly restricted: boolean;
  readonly restrictedReason?: string;
  readonly note?: string;
  readonly alternatives?: readonly ManifestAlternative[];
  /** Keyed by variant name, as typed after the colon in `--model <name>:<variant>`. */
  readonly variants?: Readonly<Record<string, ManifestVariant>>;
  readonly spec: PreprocessSpec;
}

export interface Manifest {
  readonly manifestVersion: number;
  readonly models: readonly ManifestEntry[];
}

let cached: Manifest | undefined;

/** Checks the parts the code relies on, so a hand-edited manifest fails with a clear line. */
export function parseManifest(text: string, file = manifestPath): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DepthVideoError('PIPELINE_CONFIG', `${file} is not valid JSON: ${errorText(e)}; restore it from the package`, { file });
  }
  const models = (doc as { models?: unknown }).models;
  if (!Array.isArray(models)) {
    throw new DepthVideoError('PIPELINE_CONFIG', `${file} has no "models" array; restore it from the package`, { file });
  }
  for (const m of models as Partial<ManifestEntry>[]) {
    if (typeof m.name !== 'string' || typeof m.family !== 'string' || !isFamilyName(m.family) || typeof m.spec !== 'object') {
      throw new DepthVideoError('PIPELINE_CONFIG', `${file}: entry ${JSON.stringify(m.name)} needs name, a known family and spec`, { file });
    }
    for (const [v, d] of Object.entries(m.variants ?? {})) {
      if (!VARIANT_NAME.test(v) || v === DEFAULT_VARIANT || typeof d?.url !== 'string') {
        throw new DepthVideoError('PIPELINE_CONFIG', `${file}: variant ${JSON.stringify(v)} of ${m.name} needs a lower-case name other than ${DEFAULT_VARIANT} and a url`, { file });
      }
    }
  }
  return { manifestVersion: Number((doc as { manifestVersion?: unknown }).manifestVersion ?? 1), models: models as ManifestEntry[] };
}

export function loadManifest(file: string = manifestPath): Manifest {
  if (file === manifestPath && cached) return cached;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DepthVideoError('PIPELINE_CONFIG', `cannot read the model manifest ${file}: ${errorText(e)}; reinstall depth-video`, { file });
  }
  const m = parseManifest(text, file);
  if (file === manifestPath) cached = m;
  return m;
}

export function findEntry(name: string, manifest: Manifest = loadManifest()): ManifestEntry | null {
  return manifest.models.find((m) => m.name === name) ?? null;
}

/** The variant a bare name means: the main url, model.onnx in the transformers.js repositories. */
export const DEFAULT_VARIANT = 'fp32';
const VARIANT_NAME = /^[a-z0-9]+$/;

/** One downloadable file of an entry. */
export interface VariantDownload {
  readonly variant: string;
  readonly url: string | null;
  readonly sizeBytes: number | null;
  readonly approxSizeBytes: number | null;
  readonly sha256: string | null;
  /** The file is the official PyTorch checkpoint, converted to ONNX on first use (into the models cache). */
  readonly checkpoint?: boolean;
}

/**
 * The default file of an entry: its ONNX export, or, when only a PyTorch
 * checkpoint is published and the converter knows the family, the checkpoint.
 */
function defaultDownload(entry: ManifestEntry): VariantDownload {
  if (entry.url === null && entry.pytorchUrl !== undefined && canConvertTo(entry.family)) {
    return { variant: DEFAULT_VARIANT, url: entry.pytorchUrl, sizeBytes: entry.pytorchSizeBytes ?? null, approxSizeBytes: null, sha256: entry.pytorchSha256 ?? null, checkpoint: true };
  }
  return { variant: DEFAULT_VARIANT, url: entry.url, sizeBytes: entry.sizeBytes, approxSizeBytes: entry.approxSizeBytes ?? null, sha256: entry.sha256 };
}

/** Every file of an entry, the default first. */
export function variantsOf(entry: ManifestEntry): VariantDownload[] {
  return [
    defaultDownload(entry),
    ...Object.entries(entry.variants ?? {}).map(([variant, v]) => ({
      variant,
      url: v.url,
      sizeBytes: v.sizeBytes,
      approxSizeBytes: v.approxSizeBytes ?? null,
      sha256: v.sha256,
    })),
  ];
}

/**
 * `<name>:<variant>` as one string, so a variant travels wherever a model
 * name does (presets, recordings, the live page) without a second option.
 */
export function splitModelRef(ref: string): { name: string; variant: string | null } {
  const i = ref.lastIndexOf(':');
  return i > 0 ? { name: ref.slice(0, i), variant: ref.slice(i + 1) } : { name: ref, variant: null };
}

/** `<name>.onnx` for the default variant, `<name>.<variant>.onnx` for the others. */
function variantFileName(name: string, variant: string = DEFAULT_VARIANT): string {
  return variant === DEFAULT_VARIANT ? `${name}.onnx` : `${name}.${variant}.onnx`;
}

/** The file a download is kept as in the models folder: `<name>.pt` for a checkpoint. */
export function downloadFileName(name: string, d: VariantDownload): string {
  return d.checkpoint ? `${name}.pt` : variantFileName(name, d.variant);
}

/**
 * How the pipeline sizes frames for a spec, in a few words: a dynamic input
 * (kept aspect, sides rounded to a multiple) or a fixed, squashed one.
 */
export function inputBehaviour(s: PreprocessSpec): string {
  if (s.native) return 'native frame size';
  if (s.keepAspect && s.multipleOf > 1) return `dynamic x${s.multipleOf}, aspect kept (${s.resizeMethod.replace('_', ' ')} ${s.width})`;
  return `fixed ${s.width}x${s.height}, squashed`;
}

/** Entry whose file name (`<name>.onnx` or `<name>.<variant>.onnx`) matches, for files found on disk. */
export function entryForFile(fileName: string, manifest: Manifest = loadManifest()): ManifestEntry | null {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
  const direct = findEntry(base, manifest);
  if (direct) return direct;
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  const entry = findEntry(base.slice(0, dot), manifest);
  return entry?.variants?.[base.slice(dot + 1)] ? entry : null;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/**
 * Names a user probably meant: substrings either way first (people type
 * "depth-anything" or "small"), then anything within a third of the length
 * in edits, nearest first.
 */
export function closeNames(query: string, names: readonly string[], max = 5): string[] {
  const q = query.toLowerCase();
  const scored = names.map((n) => {
    const l = n.toLowerCase();
    const sub = l.includes(q) || q.includes(l);
    return { n, d: sub ? -1 : editDistance(q, l) };
  });
  const limit = Math.max(2, Math.ceil(q.length / 3));
  return scored
    .filter((s) => s.d < 0 || s.d <= limit)
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, max)
    .map((s) => s.n);
}

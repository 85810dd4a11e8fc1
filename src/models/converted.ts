import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { familyEntry, CONVERTER_VERSION, CONVERTER_VERSION_KEY, SOURCE_SHA256_KEY } from '../convert/catalogue.js';
import { readOnnxMetadata } from '../inference/generate/metadata.js';
import { EXTERNAL_DATA_BYTES_KEY, externalDataPath } from './onnx-wire.js';
import { sha256File } from './download.js';

/** Checkpoint files `--model` converts on first use (by extension; the content is checked when read). */
export function isCheckpointFile(path: string): boolean {
  return /\.(pth|pt|safetensors)$/i.test(path);
}

/** What `models convert` takes besides the file, for a checkpoint converted on first use. */
export interface CheckpointChoice {
  /** A `--family` value, when the file name and keys do not say (e.g. depth-anything-v1). */
  readonly family?: string;
  /** Metric models: the metres the output is scaled to (`--max-depth`). */
  readonly maxDepth?: number;
}

export interface ConvertedCacheOptions extends CheckpointChoice {
  /** The cache folder (default: `converted/` in the models folder). */
  readonly dir: string;
  /** One line for the user when a conversion starts, and the family's notes. */
  readonly onNote?: (line: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
  /** Bytes of weights above which they go to `<model>.data` (as convertCheckpoint's; tests force it). */
  readonly externalDataAbove?: number;
}

/**
 * Hashing a 1 GB checkpoint takes seconds, so the sha256 of a file is
 * remembered under (real path, size, mtime): a second run finds the
 * converted model without reading the checkpoint. The sha256 stays the real
 * key, so the same weights under two names are converted once.
 */
type HashIndex = Record<string, string>;

function readIndex(path: string): HashIndex {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as HashIndex) : {};
  } catch {
    return {}; // missing or damaged: hashes are recomputed
  }
}

async function checkpointSha256(checkpoint: string, indexPath: string): Promise<string> {
  const st = statSync(checkpoint);
  const key = `${realpathSync(checkpoint)}|${st.size}|${st.mtimeMs}`;
  const known = readIndex(indexPath)[key];
  if (known) return known;
  const sha256 = await sha256File(checkpoint);
  // Re-read just before writing so concurrent runs lose at most their own entry; temp + rename keeps the file whole.
  const index = { ...readIndex(indexPath), [key]: sha256 };
  const tmp = `${indexPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, JSON.stringify(index, null, 1));
  renameSync(tmp, indexPath);
  return sha256;
}

/** Whether the cached model can be used as it is; else why it is converted again. */
function cachedState(onnx: string, sha256: string): 'current' | 'missing' | 'outdated' | 'weights' {
  let meta: Record<string, string>;
  try {
    meta = readOnnxMetadata(onnx);
  } catch {
    return 'missing'; // missing or unreadable: convert again
  }
  if (meta[SOURCE_SHA256_KEY] !== sha256 || meta[CONVERTER_VERSION_KEY] !== String(CONVERTER_VERSION)) return 'outdated';
  const dataBytes = meta[EXTERNAL_DATA_BYTES_KEY];
  if (dataBytes !== undefined) {
    // Weights beside the model (large checkpoints): deleted or cut, onnxruntime would fail on them later.
    try {
      if (statSync(externalDataPath(onnx)).size !== Number(dataBytes)) return 'weights';
    } catch {
      return 'weights';
    }
  }
  return 'current';
}

/**
 * The cache's file name: the checkpoint's sha256, then what was chosen for
 * it, so the same weights converted as another family or with another max
 * depth are another model.
 */
function convertedName(sha256: string, choice: CheckpointChoice = {}): string {
  const parts = [sha256];
  if (choice.family !== undefined) parts.push(choice.family);
  if (choice.maxDepth !== undefined) parts.push(`max-depth-${choice.maxDepth}`);
  return `${parts.join('.')}.onnx`;
}

/**
 * The ONNX conversion of `checkpoint` in the cache (`<sha256>[.<family>][.max-depth-<m>].onnx`),
 * converting it on first use. A model converted by an older converter is
 * converted again.
 */
export async function ensureConverted(checkpoint: string, opts: ConvertedCacheOptions): Promise<string> {
  // A --family value becomes part of a file name: only the names the converter knows get that far.
  if (opts.family !== undefined) familyEntry(opts.family);
  mkdirSync(opts.dir, { recursive: true });
  const sha256 = await checkpointSha256(checkpoint, join(opts.dir, 'sha256-index.json'));
  const onnx = join(opts.dir, convertedName(sha256, opts));
  const state = cachedState(onnx, sha256);
  if (state === 'current') return onnx;
  const why = {
    missing: 'on first use',
    outdated: 'again (the cached conversion is from another converter version)',
    weights: `again (its weights file ${externalDataPath(onnx)} is missing or incomplete)`,
  }[state];
  opts.onNote?.(`converting ${checkpoint} to ONNX ${why} (cached as ${onnx})`);
  // The converter loads only now: a run of a cached conversion never needs it.
  const { convertCheckpoint } = await import('../convert/index.js');
  const result = await convertCheckpoint(checkpoint, { out: onnx, overwrite: true, sha256, family: opts.family, maxDepth: opts.maxDepth, onProgress: opts.onProgress,
    externalDataAbove: opts.externalDataAbove });
  opts.onNote?.(`converted: ${result.variant} (${result.chosenBy}), ${result.summary}, in ${result.seconds.toFixed(1)} s`);
  for (const note of result.notes) opts.onNote?.(note);
  return onnx;
}

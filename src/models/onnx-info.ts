import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type onnx from 'onnx-proto';
import { DepthVideoError, errorText } from '../errors.js';
import type { DepthKind, PreprocessSpec } from '../types.js';
import { FAMILY_SPECS, fixedInputSpec, isFamilyName, type FamilyName } from '../inference/families.js';
import { detectInGraphNormalization, MAX_CONSTANT_BYTES, specForInGraphNormalization, type InGraphNormalization } from './graph-normalization.js';
import { readModelSkeleton } from './onnx-skeleton.js';
import { entryForFile, loadManifest, type Manifest } from './manifest.js';

/** A dimension: a number, the symbolic name of a dynamic axis, or '?' when neither is recorded. */
export type Dim = number | string;

export interface TensorInfo {
  readonly name: string;
  /** 'float32', 'float16', 'int64', … */
  readonly elemType: string;
  /** Empty when the graph records no shape. */
  readonly dims: readonly Dim[];
}

export interface OnnxInfo {
  readonly file: string;
  readonly fileBytes: number;
  readonly irVersion: number;
  readonly producer: string;
  readonly producerVersion: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly parameterCount: number;
  readonly initializerCount: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** Normalisation the graph applies to its own input (Sub/Div by per-channel constants), if any. */
  readonly inputNormalization: InGraphNormalization | null;
}

const ELEM_TYPES: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64',
  15: 'complex128', 16: 'bfloat16',
};

type LongLike = number | { toNumber(): number } | null | undefined;

/** protobufjs gives int64 fields as Long objects when the long package is around, numbers otherwise. */
function num(v: LongLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function tensorInfo(v: onnx.onnx.IValueInfoProto): TensorInfo {
  const tt = v.type?.tensorType;
  const dims: Dim[] = (tt?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    const n = num(d.dimValue as LongLike);
    // dim_value 0 or absent is how exporters spell "dynamic without a name".
    return n > 0 ? n : '?';
  });
  return { name: v.name ?? '', elemType: ELEM_TYPES[tt?.elemType ?? 0] ?? `type${tt?.elemType}`, dims };
}

/**
 * Decodes an ONNX file's interface and bookkeeping without loading it into
 * onnxruntime, and without reading its weights: only values small enough to
 * be normalisation constants are read (see onnx-skeleton.ts).
 */
export async function readOnnxInfo(path: string): Promise<OnnxInfo> {
  let skeleton: { bytes: Uint8Array; fileBytes: number };
  try {
    skeleton = readModelSkeleton(path, MAX_CONSTANT_BYTES);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new DepthVideoError('MODEL_MISSING', `model file ${path} does not exist; check the path or run \`depth-video models list\``, { file: path, cause: e });
    }
    if (code !== undefined) {
      throw new DepthVideoError('MODEL_INVALID', `cannot read model file ${path}: ${errorText(e)}`, { file: path, cause: e });
    }
    throw notOnnx(path, errorText(e), e);
  }
  return decodeOnnxInfo(skeleton.bytes, path, skeleton.fileBytes);
}

function notOnnx(file: string, why: string, cause?: unknown): DepthVideoError {
  return new DepthVideoError('MODEL_INVALID', `${file} is not an ONNX model: ${why}; use a .onnx export of a depth model`, { file, cause });
}

/**
 * protobufjs and the ONNX schema, loaded when a model is first read: about
 * 40 ms of module loading that importing the CLI (or the library) no longer
 * pays, and that a run pays while onnxruntime opens the model on its own
 * thread (DepthSession.open).
 */
let schema: typeof onnx | null = null;
function onnxSchema(): typeof onnx {
  schema ??= createRequire(import.meta.url)('onnx-proto') as typeof onnx;
  return schema;
}

/** `fileBytes`: the size of the file `bytes` were pruned from, when they are not the whole file. */
export function decodeOnnxInfo(bytes: Uint8Array, file: string, fileBytes: number = bytes.length): OnnxInfo {
  const invalid = (why: string, cause?: unknown): DepthVideoError => notOnnx(file, why, cause);
  if (fileBytes === 0) throw invalid('the file is empty');
  let model: onnx.onnx.ModelProto;
  try {
    model = onnxSchema().onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw invalid(errorText(e), e);
  }
  // Random bytes sometimes decode as a protobuf; a real model always has a graph with outputs and an IR version.
  const graph = model.graph;
  if (!graph || num(model.irVersion as LongLike) <= 0 || (graph.output ?? []).length === 0) {
    throw invalid('no graph with outputs and no IR version found');
  }
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  let parameterCount = 0;
  for (const t of graph.initializer ?? []) {
    parameterCount += (t.dims ?? []).reduce<number>((p, d) => p * num(d as LongLike), 1);
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  // Before IR 4 initializers were listed as graph inputs too; they are weights, not inputs.
  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(tensorInfo);
  return {
    file,
    fileBytes,
    irVersion: num(model.irVersion as LongLike),
    producer: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: num(o.version as LongLike) })),
    inputs,
    outputs: (graph.output ?? []).map(tensorInfo),
    parameterCount,
    initializerCount: initNames.size,
    metadata,
    inputNormalization: inputs.length === 1 ? detectInGraphNormalization(graph, inputs[0].name) : null,
  };
}

/** What the model's output means, as its converter recorded it (`depth_video.output`); relative inverse depth otherwise. */
export function depthKindOf(info: OnnxInfo): DepthKind {
  return info.metadata['depth_video.output'] === 'metric-depth' ? 'metric-depth' : 'relative-inverse-depth';
}

function fmtDims(dims: readonly Dim[]): string {
  return dims.length ? `[${dims.join(',')}]` : 'an unknown shape';
}

/**
 * The session feeds one float [N,3,H,W] picture and reads one depth map:
 * anything else is refused here with what was found, before onnxruntime fails
 * with a less helpful message mid-pipeline.
 */
export function validateDepthIO(info: OnnxInfo): void {
  const file = info.file;
  const fail = (what: string): never => {
    throw new DepthVideoError('MODEL_SHAPE', `${file}: ${what}; depth-video needs one float32 or float16 input [N,3,H,W] and a depth output [N,H,W] or [N,1,H,W]`, { file });
  };
  if (info.inputs.length !== 1) {
    fail(`the model has ${info.inputs.length} inputs (${info.inputs.map((i) => `${i.name} ${fmtDims(i.dims)}`).join(', ')})`);
  }
  const input = info.inputs[0];
  if (input.dims.length !== 4 || input.dims[1] !== 3) fail(`input ${input.name} is ${fmtDims(input.dims)}`);
  // float16 I/O (an fp16 export without keep_io_types) is converted at the worker's boundary.
  if (input.elemType !== 'float32' && input.elemType !== 'float16') fail(`input ${input.name} is ${input.elemType}`);
  const out = info.outputs[0];
  const ok = out.dims.length === 3 || (out.dims.length === 4 && out.dims[1] === 1);
  if (!ok) fail(`output ${out.name} is ${fmtDims(out.dims)}`);
  if (!['float32', 'float16', 'undefined'].includes(out.elemType)) fail(`output ${out.name} is ${out.elemType}`);
}

export type DetectionSource = 'metadata' | 'manifest' | 'file-name' | 'input-size' | 'default';

export interface DetectedFamily {
  /** A FamilyName, or the family a generated model declares in its metadata (e.g. 'analytic'). */
  readonly family: FamilyName | string;
  readonly spec: PreprocessSpec;
  readonly source: DetectionSource;
  /** Set when the graph's input has a fixed H x W, which then overrides the family size. */
  readonly fixedSize: { readonly width: number; readonly height: number } | null;
  /** Present when the guess is weak and the user should confirm it. */
  readonly warning?: string;
}

const SPEC_KEYS: readonly (keyof PreprocessSpec)[] = [
  'width', 'height', 'keepAspect', 'resizeMethod', 'multipleOf', 'mean', 'std', 'channelOrder',
  'inputInterpolation', 'outputInterpolation', 'outputAlignCorners',
];

function parseSpecMetadata(text: string, file: string): PreprocessSpec {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new DepthVideoError('MODEL_INVALID', `${file}: metadata depth_video.spec is not JSON (${errorText(e)}); regenerate or re-export the model`, { file, cause: e });
  }
  const missing = SPEC_KEYS.filter((k) => (spec as Record<string, unknown>)[k] === undefined);
  if (!spec || typeof spec !== 'object' || missing.length) {
    throw new DepthVideoError('MODEL_INVALID', `${file}: metadata depth_video.spec lacks ${missing.join(', ')}; regenerate or re-export the model`, { file });
  }
  return spec as PreprocessSpec;
}

/** Family from a file name, for the names the official and community exports use. */
export function familyFromName(fileName: string): FamilyName | null {
  const n = fileName.toLowerCase();
  if (/depth[-_ ]?anything|dav2|vit[slbg]14/.test(n)) return 'depth-anything';
  if (n.includes('levit')) return 'levit-224';
  if (n.includes('swin2')) return /tiny|256/.test(n) ? 'swin2-256' : 'swin2-384';
  if (n.includes('beit')) return n.includes('512') ? 'beit-512' : 'beit-384';
  if (/dpt[-_]?(hybrid|large)|dpt/.test(n)) return 'dpt';
  if (n.includes('model-small') || /midas.*small|small.*midas/.test(n)) return 'midas-v21-small';
  if (n.includes('f6b98070') || /midas[-_]?v?2/.test(n) || n.includes('midas')) return 'midas-v21';
  return null;
}

/** Family from a fixed input size, the only other hint a renamed file carries. */
function familyFromSize(h: number, w: number, fileName: string): FamilyName | null {
  if (h === 518 || (h % 14 === 0 && w % 14 === 0 && (h % 32 !== 0 || w % 32 !== 0))) return 'depth-anything';
  if (h === 256 && w === 256) return 'midas-v21-small';
  if (h === 384 && w === 384) return /dpt|hybrid|vit/i.test(fileName) ? 'dpt' : 'midas-v21';
  if (h === 512 && w === 512) return 'beit-512';
  if (h === 224 && w === 224) return 'levit-224';
  return null;
}

/**
 * Works out how to prepare frames for a model: the file's own
 * `depth_video.spec` metadata wins, then the manifest entry of that file name,
 * then the name, then the input size. A fixed H x W input always sets the size,
 * and normalisation found in the graph itself always replaces the family's
 * mean/std: the graph is the one thing that cannot be misnamed.
 */
export function detectFamily(info: OnnxInfo, fileName: string = basename(info.file), manifest?: Manifest): DetectedFamily {
  const input = info.inputs[0];
  const h = input?.dims[2];
  const w = input?.dims[3];
  const fixedSize = typeof h === 'number' && typeof w === 'number' ? { width: w, height: h } : null;
  const norm = info.inputNormalization;
  const fix = (spec: PreprocessSpec): PreprocessSpec => {
    const sized = fixedSize ? fixedInputSpec(spec, fixedSize.width, fixedSize.height) : spec;
    return norm ? specForInGraphNormalization(sized, norm) : sized;
  };

  const metaSpec = info.metadata['depth_video.spec'];
  if (metaSpec !== undefined) {
    const spec = parseSpecMetadata(metaSpec, info.file);
    const declared = info.metadata['depth_video.family'];
    return { family: declared ?? familyFromName(fileName) ?? 'custom', spec: fix(spec), source: 'metadata', fixedSize };
  }
  const declared = info.metadata['depth_video.family'];
  if (declared !== undefined && isFamilyName(declared)) {
    return { family: declared, spec: fix(FAMILY_SPECS[declared]), source: 'metadata', fixedSize };
  }
  let entry = null;
  try {
    entry = entryForFile(fileName, manifest ?? loadManifest());
  } catch {
    // A broken manifest must not stop a user from running a file they named by path.
  }
  if (entry) return { family: entry.family, spec: fix(entry.spec), source: 'manifest', fixedSize };

  const byName = familyFromName(fileName);
  if (byName) return { family: byName, spec: fix(FAMILY_SPECS[byName]), source: 'file-name', fixedSize };
  if (fixedSize) {
    const bySize = familyFromSize(fixedSize.height, fixedSize.width, fileName);
    if (bySize) {
      return {
        family: bySize,
        spec: fix(FAMILY_SPECS[bySize]),
        source: 'input-size',
        fixedSize,
        warning: `${fileName}: guessed family ${bySize} from its ${fixedSize.width}x${fixedSize.height} input; rename the file after its family (depth-anything-…, midas-…, dpt-…) if the depth looks wrong`,
      };
    }
  }
  return {
    family: 'depth-anything',
    spec: fix(FAMILY_SPECS['depth-anything']),
    source: 'default',
    fixedSize,
    warning: `${fileName}: could not tell the model family; assuming depth-anything preprocessing (518, ImageNet mean/std); rename the file after its family (depth-anything-…, midas-…, dpt-…) if the depth looks wrong`,
  };
}

import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DepthVideoError, errorText } from '../errors.js';
import { sha256File } from '../models/download.js';
import { openCheckpoint } from './checkpoint/index.js';
import { GraphBuilder } from '../inference/generate/graph.js';
import { writeModel } from '../inference/generate/onnx-writer.js';
import { externalDataPath } from '../models/onnx-wire.js';
import type { DepthKind } from '../types.js';
import type { FamilyPlan } from './family.js';
import { selectFamily } from './registry.js';
import { CheckpointWeights, type StateDict } from './weights.js';
import { counted } from '../count.js';
import { CONVERTER_VERSION, CONVERTER_VERSION_KEY, SOURCE_SHA256_KEY } from './catalogue.js';

export interface ConvertOptions {
  /** The .onnx to write. */
  readonly out: string;
  /** A `--family` value; otherwise detected from the keys. */
  readonly family?: string;
  /** Metric models: metres the sigmoid output is scaled to. */
  readonly maxDepth?: number;
  /** Replace an existing output. */
  readonly overwrite?: boolean;
  /** Bytes of weights above which they go to `<out>.data` (tests force it). */
  readonly externalDataAbove?: number;
  /** Bytes of weights written so far and in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ConvertResult {
  readonly out: string;
  /** External weights beside the model, when it is over protobuf's 2 GiB. */
  readonly dataPath: string | null;
  readonly variant: string;
  readonly chosenBy: string;
  readonly summary: string;
  readonly output: DepthKind;
  readonly notes: readonly string[];
  /** Learned values in the ONNX file. */
  readonly parameterCount: number;
  /** Checkpoint tensors the forward pass never reads, by key. */
  readonly unusedKeys: readonly string[];
  /** Of the checkpoint file, as stored in the model. */
  readonly sha256: string;
  readonly seconds: number;
}

/** Where the weights come from: the file (for messages) and its sha256, computed only once the plan holds. */
export interface Source {
  readonly file: string;
  readonly sha256: string | (() => Promise<string>);
}

/**
 * Refuses to replace an output unless told to; called before any work. The
 * weights file beside it counts too: writing the model replaces it, or
 * removes it when the new weights fit inside the model.
 */
export function checkOutput(out: string, overwrite: boolean | undefined): void {
  if (overwrite) return;
  for (const file of [out, externalDataPath(out)]) {
    if (existsSync(file)) throw new DepthVideoError('OUTPUT_EXISTS', `${file} already exists; pass --overwrite to replace it or choose another --out`, { file });
  }
}

export { CONVERTER_VERSION, CONVERTER_VERSION_KEY, SOURCE_SHA256_KEY } from './catalogue.js';

/** What the converted model says about itself, so `models info` and the pipeline need no flags. */
function metadataOf(plan: FamilyPlan, source: { file: string; sha256: string }): Record<string, string> {
  return {
    // What run summaries call the model (a cached conversion's file is named by its hash).
    'depth_video.name': basename(source.file, extname(source.file)),
    'depth_video.family': plan.runtimeFamily,
    'depth_video.variant': plan.variant,
    'depth_video.spec': JSON.stringify(plan.spec),
    'depth_video.config': JSON.stringify(plan.config),
    'depth_video.output': plan.output,
    [SOURCE_SHA256_KEY]: source.sha256,
    [CONVERTER_VERSION_KEY]: String(CONVERTER_VERSION),
    'depth_video.source_file': source.file,
    // The converter cannot know how the weights were made; released checkpoints are trained.
    'depth_video.untrained': 'false',
  };
}

/** A state dict's family, config and graph, built but not yet written. */
export interface Conversion {
  readonly plan: FamilyPlan;
  readonly graph: GraphBuilder;
  readonly weights: CheckpointWeights;
}

/**
 * Picks the family, infers its config from the shapes and builds the graph
 * with the checkpoint's tensors (values are read later, when written). Every
 * checkpoint key must be used or known to be unused, so nothing in the file
 * is silently ignored.
 */
export function planConversion(dict: StateDict, file: string, opts: Pick<ConvertOptions, 'family' | 'maxDepth'> = {}): Conversion {
  const family = selectFamily(dict, file, opts.family);
  const plan = family.plan(dict, { file, variant: opts.family, maxDepth: opts.maxDepth });
  const describe = `${plan.variant} ${plan.summary}`;
  const graph = new GraphBuilder(plan.variant);
  const weights = new CheckpointWeights(dict, plan.keyMap, file, describe);
  const [H, W] = plan.inputSize ? [plan.inputSize.height, plan.inputSize.width] : ['H', 'W'];
  const image = graph.input('image', [1, 3, H, W]);
  graph.output(plan.build({ g: graph, weights }, image), 'depth', [1, H, W]);
  const extra = weights.unexplained();
  if (extra.length) {
    throw new DepthVideoError(
      'CHECKPOINT_MISMATCH',
      `${file}: ${counted(extra.length, 'tensor')} that ${describe} has no use for, e.g. ${extra.slice(0, 3).join(', ')}; the checkpoint does not match the family (check --family)`,
      { file },
    );
  }
  return { plan, graph, weights };
}

/** Converts an opened state dict and streams the model to `opts.out` (temp file + rename). */
export async function convertStateDict(dict: StateDict, source: Source, opts: ConvertOptions): Promise<ConvertResult> {
  const started = performance.now();
  const file = source.file;
  checkOutput(opts.out, opts.overwrite);
  const { plan, graph, weights } = planConversion(dict, file, opts);
  const sha256 = typeof source.sha256 === 'string' ? source.sha256 : await source.sha256();
  let written;
  try {
    written = await writeModel(graph.parts(), opts.out, {
      metadata: metadataOf(plan, { file, sha256 }),
      docString: `${plan.variant} converted by depth-video from ${file} (sha256 ${sha256})`,
      externalDataAbove: opts.externalDataAbove,
      onProgress: opts.onProgress,
    });
  } catch (e) {
    if (e instanceof DepthVideoError) throw e;
    throw new DepthVideoError('OUTPUT_DIR', `cannot write ${opts.out}: ${errorText(e)}; check the folder exists and is writable`, { file: opts.out, cause: e });
  }
  return {
    out: opts.out,
    dataPath: written.dataPath,
    variant: plan.variant,
    chosenBy: plan.chosenBy,
    summary: plan.summary,
    output: plan.output,
    notes: plan.notes,
    parameterCount: written.parameterCount,
    unusedKeys: [...dict.keys()].filter((k) => !weights.usedKeys.has(k)),
    sha256,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Converts a checkpoint file (torch.save zip or .safetensors) to ONNX. The
 * file is parsed, never executed (src/convert/checkpoint); tensors are read
 * one at a time while the model is written, so memory stays near the size of
 * the largest tensor. `sha256` skips hashing when the caller knows it.
 */
export async function convertCheckpoint(checkpoint: string, opts: ConvertOptions & { readonly sha256?: string }): Promise<ConvertResult> {
  checkOutput(opts.out, opts.overwrite);
  const started = performance.now();
  const ckpt = openCheckpoint(checkpoint);
  try {
    const result = await convertStateDict(ckpt.tensors, { file: checkpoint, sha256: opts.sha256 ?? (() => sha256File(checkpoint)) }, opts);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    ckpt.close();
  }
}

import { existsSync } from 'node:fs';
import { DepthVideoError, errorText } from '../errors.js';
import { GraphBuilder } from '../inference/generate/graph.js';
import { writeModel } from '../inference/generate/onnx-writer.js';
import type { FamilyPlan, OutputKind } from './family.js';
import { selectFamily } from './registry.js';
import { CheckpointWeights, type StateDict } from './weights.js';

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
  readonly output: OutputKind;
  readonly notes: readonly string[];
  /** Learned values in the ONNX file. */
  readonly parameterCount: number;
  /** Checkpoint tensors the forward pass never reads, by key. */
  readonly unusedKeys: readonly string[];
}

/** Refuses to replace an output unless told to; called before any work. */
export function checkOutput(out: string, overwrite: boolean | undefined): void {
  if (!overwrite && existsSync(out)) {
    throw new DepthVideoError('OUTPUT_EXISTS', `${out} already exists; pass --overwrite to replace it or choose another --out`, { file: out });
  }
}

/** What the converted model says about itself, so `models info` and the pipeline need no flags. */
function metadataOf(plan: FamilyPlan, source: { file: string; sha256: string }): Record<string, string> {
  return {
    'depth_video.family': plan.runtimeFamily,
    'depth_video.variant': plan.variant,
    'depth_video.spec': JSON.stringify(plan.spec),
    'depth_video.config': JSON.stringify(plan.config),
    'depth_video.output': plan.output,
    'depth_video.source_sha256': source.sha256,
    'depth_video.source_file': source.file,
    // The converter cannot know how the weights were made; released checkpoints are trained.
    'depth_video.untrained': 'false',
  };
}

/**
 * Converts an opened state dict: picks the family, infers its config from
 * the shapes, builds the graph with the checkpoint's tensors and streams it
 * to `opts.out` (temp file + rename). Every checkpoint key must be used or
 * known to be unused, so nothing in the file is silently ignored.
 */
export async function convertStateDict(dict: StateDict, source: { file: string; sha256: string }, opts: ConvertOptions): Promise<ConvertResult> {
  const file = source.file;
  checkOutput(opts.out, opts.overwrite);
  const family = selectFamily(dict, file, opts.family);
  const plan = family.plan(dict, { file, variant: opts.family, maxDepth: opts.maxDepth });
  const describe = `${plan.variant} ${plan.summary}`;

  const g = new GraphBuilder(plan.variant);
  const weights = new CheckpointWeights(dict, plan.keyMap, file, describe);
  const image = g.input('image', [1, 3, 'H', 'W']);
  g.output(plan.build({ g, weights }, image), 'depth', [1, 'H', 'W']);

  const extra = weights.unexplained();
  if (extra.length) {
    throw new DepthVideoError(
      'CHECKPOINT_MISMATCH',
      `${file}: ${extra.length} tensor(s) that ${describe} has no use for, e.g. ${extra.slice(0, 3).join(', ')}; the checkpoint does not match the family (check --family)`,
      { file },
    );
  }
  let written;
  try {
    written = await writeModel(g.parts(), opts.out, {
      metadata: metadataOf(plan, source),
      docString: `${plan.variant} converted by depth-video from ${file} (sha256 ${source.sha256})`,
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
  };
}

import type { FamilyName } from '../inference/families.js';
import type { Ctx } from '../inference/generate/dpt/layers.js';
import type { DepthKind, PreprocessSpec } from '../types.js';
import type { KeyMap } from './key-map.js';
import type { StateDict } from './weights.js';

/**
 * One architecture the converter knows. A family lives in its own folder
 * (src/convert/<family>/) with its key map, its encoder and a walkthrough;
 * the DPT decoder is shared (src/inference/generate/dpt/decoder.ts).
 */
export interface ConverterFamily {
  readonly name: string;
  /** `--family` values it answers to, e.g. depth-anything-v1. */
  readonly variants: readonly string[];
  /**
   * The preprocessing families (depth_video.family) its conversions carry,
   * so a manifest row with only a PyTorch checkpoint is known to be convertible.
   */
  readonly produces: readonly FamilyName[];
  /** Whether a state dict with these keys is this family's. */
  detect(keys: ReadonlySet<string>): boolean;
  /** Whether this family has a use (or a known non-use) for the key; the rest are "unrecognised". */
  knows(key: string): boolean;
  /** The config inferred from tensor shapes, and how to build the graph. Throws CHECKPOINT_MISMATCH. */
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan;
}

export interface PlanOptions {
  /** The checkpoint's path, for messages. */
  readonly file: string;
  /** A `--family` value, if the user gave one. */
  readonly variant?: string;
  /** Metric models: the depth the sigmoid output is scaled to, in metres. */
  readonly maxDepth?: number;
}

export interface FamilyPlan {
  /** The variant built, e.g. depth-anything-v2. */
  readonly variant: string;
  /** How the variant was chosen, said to the user: "from the file name", "--family". */
  readonly chosenBy: string;
  /** The inferred config in one line. */
  readonly summary: string;
  /** Stored as depth_video.config. */
  readonly config: unknown;
  readonly keyMap: KeyMap;
  /** depth_video.family of the converted model (how the pipeline names its preprocessing). */
  readonly runtimeFamily: FamilyName;
  /** How the family's reference code prepares frames and brings the depth back. */
  readonly spec: PreprocessSpec;
  /** A fixed input the graph is built for (SwinV2, LeViT); absent: any H x W the spec allows. */
  readonly inputSize?: { readonly width: number; readonly height: number };
  readonly output: DepthKind;
  /** Lines the user should read (an assumption made, how to view metric depth). */
  readonly notes: readonly string[];
  /** Adds the network to ctx.g from `image` [1,3,H,W]; returns depth [1,H,W]. */
  build(ctx: Ctx, image: string): string;
}

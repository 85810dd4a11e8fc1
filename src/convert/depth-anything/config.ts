import { basename } from 'node:path';
import { DepthVideoError } from '../../errors.js';
import type { VitConfig } from '../../inference/generate/dpt/vit.js';
import { shapeReader } from '../shape-reader.js';
import type { StateDict } from '../weights.js';

export type DepthAnythingVariant = 'v1' | 'v2' | 'v2-metric';

/** Everything that decides the graph, inferred from tensor shapes (and the variant from the name). */
export interface DepthAnythingConfig {
  readonly variant: DepthAnythingVariant;
  /** The official encoder name for this width, if it is one of the four. */
  readonly encoder: 'vits' | 'vitb' | 'vitl' | 'vitg';
  readonly vit: VitConfig;
  /** Blocks whose outputs the decoder reads. */
  readonly hooks: readonly number[];
  /** DPTHead `features`: channels of the fusion path. */
  readonly features: number;
  /** DPTHead `out_channels`: channels of the four reassembled maps. */
  readonly outChannels: readonly number[];
  /** DPTHead `use_clstoken`: the class token is projected into each patch (readout_projects). */
  readonly useClsToken: boolean;
  /** Metric models: sigmoid output times this, in metres. */
  readonly maxDepth: number | null;
}

const ENCODERS = { 384: 'vits', 768: 'vitb', 1024: 'vitl', 1536: 'vitg' } as const;
const ENCODER_LABEL = { vits: 'ViT-S', vitb: 'ViT-B', vitl: 'ViT-L', vitg: 'ViT-G' } as const;

/** DepthAnythingV2.intermediate_layer_idx (depth_anything_v2/dpt.py). */
const V2_HOOKS = { vits: [2, 5, 8, 11], vitb: [2, 5, 8, 11], vitl: [4, 11, 17, 23], vitg: [9, 19, 29, 39] } as const;

/** DINOv2 heads are 64 wide (vit_small 6 x 64 ... vit_giant2 24 x 64). */
const HEAD_DIM = 64;

/** Metric V2 max_depth per training set (metric_depth/README.md): Hypersim indoor 20 m, Virtual KITTI outdoor 80 m. */
const MAX_DEPTH = { hypersim: 20, vkitti: 80 } as const;

export interface VariantChoice {
  readonly variant: DepthAnythingVariant;
  readonly chosenBy: string;
  readonly maxDepth: number | null;
}

function usage(message: string): DepthVideoError {
  return new DepthVideoError('USAGE', message);
}

/**
 * V1 and V2 have identical keys; they differ in the hooked blocks (and V1
 * brings the depth back with align_corners=False). Released files say which
 * they are in their names: depth_anything_vits14.pth (V1),
 * depth_anything_v2_vits.pth (V2), depth_anything_v2_metric_hypersim_vitl.pth.
 */
export function chooseVariant(file: string, requested: string | undefined, maxDepth: number | undefined): VariantChoice {
  const name = basename(file).toLowerCase();
  const dataset = /hypersim/.test(name) ? 'hypersim' : /vkitti/.test(name) ? 'vkitti' : null;
  const depthFor = (variant: DepthAnythingVariant, by: string): number | null => {
    if (variant !== 'v2-metric') return null;
    if (maxDepth !== undefined) return maxDepth;
    if (dataset) return MAX_DEPTH[dataset];
    throw usage(`${file}: a metric Depth-Anything V2 model needs its max depth: pass --max-depth 20 (Hypersim, indoor) or --max-depth 80 (Virtual KITTI, outdoor) (variant ${by})`);
  };
  if (requested !== undefined && requested !== 'depth-anything') {
    const variant = requested.replace(/^depth-anything-/, '') as DepthAnythingVariant;
    return { variant, chosenBy: `--family ${requested}`, maxDepth: depthFor(variant, `from --family`) };
  }
  let variant: DepthAnythingVariant;
  let chosenBy: string;
  if (/v2/.test(name) && /metric/.test(name)) [variant, chosenBy] = ['v2-metric', `from the file name ${basename(file)}`];
  else if (/v2/.test(name)) [variant, chosenBy] = ['v2', `from the file name ${basename(file)}`];
  else if (/depth[-_]?anything[-_]?(v1|vit[slbg]14)/.test(name)) [variant, chosenBy] = ['v1', `from the file name ${basename(file)}`];
  else [variant, chosenBy] = ['v2', `assumed: the file name ${basename(file)} says neither V1 nor V2; pass --family depth-anything-v1 for a V1 checkpoint`];
  return { variant, chosenBy, maxDepth: depthFor(variant, chosenBy) };
}

/** Reads the config off the tensor shapes; any contradiction is one CHECKPOINT_MISMATCH line. */
export function inferConfig(dict: StateDict, file: string, choice: VariantChoice): DepthAnythingConfig {
  const { shape, count, mismatch } = shapeReader(dict, file, `Depth-Anything ${choice.variant}`);

  const [E, inC, p, p2] = shape('pretrained.patch_embed.proj.weight', 4);
  if (inC !== 3 || p !== p2) throw mismatch(`pretrained.patch_embed.proj.weight is [${E}, ${inC}, ${p}, ${p2}], expected [E, 3, p, p]`);
  const encoder = ENCODERS[E as keyof typeof ENCODERS];
  if (!encoder) throw mismatch(`embedding width ${E} is none of DINOv2 ViT-S/B/L/G (384, 768, 1024, 1536)`);

  const pos = shape('pretrained.pos_embed', 3);
  const posGrid = Math.round(Math.sqrt(pos[1] - 1));
  if (pos[0] !== 1 || pos[2] !== E || posGrid * posGrid !== pos[1] - 1) throw mismatch(`pretrained.pos_embed is [${pos.join(', ')}], expected [1, 1 + G*G, ${E}]`);

  const depth = count(/^pretrained\.blocks\.(\d+)\./);
  if (depth < 4) throw mismatch(`${depth} transformer blocks found, at least 4 are needed`);

  const swiglu = dict.has('pretrained.blocks.0.mlp.w12.weight');
  const mlpHidden = swiglu ? shape('pretrained.blocks.0.mlp.w12.weight', 2)[0] / 2 : shape('pretrained.blocks.0.mlp.fc1.weight', 2)[0];

  const hooks = choice.variant === 'v1' ? [depth - 4, depth - 3, depth - 2, depth - 1] : [...V2_HOOKS[encoder]];
  if (hooks[3] >= depth) throw mismatch(`${depth} transformer blocks, but ${ENCODER_LABEL[encoder]} hooks block ${hooks[3]}`);

  const outChannels = [0, 1, 2, 3].map((i) => shape(`depth_head.projects.${i}.weight`, 4)[0]);
  const features = shape('depth_head.scratch.layer1_rn.weight', 4)[0];
  return {
    variant: choice.variant,
    encoder,
    vit: {
      patchSize: p,
      embedDim: E,
      depth,
      heads: E / HEAD_DIM,
      mlpHidden,
      ffn: swiglu ? 'swiglu' : 'mlp',
      layerScale: true,
      posGrid,
      posEmbedResize: 'dinov2',
    },
    hooks,
    features,
    outChannels,
    useClsToken: dict.has('depth_head.readout_projects.0.0.weight'),
    maxDepth: choice.maxDepth,
  };
}

export function describeConfig(c: DepthAnythingConfig): string {
  const v = c.vit;
  return (
    `${ENCODER_LABEL[c.encoder]}/${v.patchSize} (width ${v.embedDim}, ${v.depth} blocks, ${v.heads} heads, ${v.ffn === 'swiglu' ? 'SwiGLU' : 'MLP'} ${v.mlpHidden}), ` +
    `hooks ${c.hooks.join(',')}, features ${c.features}, out_channels ${c.outChannels.join('/')}` +
    `${c.useClsToken ? ', class-token readout' : ''}${c.maxDepth !== null ? `, max depth ${c.maxDepth} m` : ''}`
  );
}

import { FAMILY_SPECS } from '../../families.js';
import type { PreprocessSpec } from '../../../types.js';

/** The seed of the generated DPT models' random weights. */
export const DEFAULT_SEED = 1;

/** Shape of a generated DPT network (names follow Ranftl et al. 2021). */
export interface DptConfig {
  readonly name: string;
  /** ViT patch size: the patch-embedding conv's kernel and stride (14 or 16). */
  readonly patchSize: number;
  readonly embedDim: number;
  /** Number of transformer blocks. */
  readonly depth: number;
  readonly heads: number;
  /** MLP hidden width = mlpRatio * embedDim. */
  readonly mlpRatio: number;
  /** 0-based indices of the blocks whose outputs feed the four reassemble stages. */
  readonly hooks: readonly [number, number, number, number];
  /** What to do with the class token when reassembling (paper section 3, "Read"). */
  readonly readout: 'ignore' | 'add' | 'project';
  /** Channels of the four reassembled maps (the paper's D-hat per stage). */
  readonly reassembleChannels: readonly [number, number, number, number];
  /** Channels of the fusion path and the head input. */
  readonly features: number;
  /** Training resolution: the position embeddings cover inputSize/patchSize patches per side. */
  readonly inputSize: number;
}

export const DPT_CONFIGS = {
  /** Small and fast: used by tests and as the embedded default model. */
  'dpt-tiny': {
    name: 'dpt-tiny',
    patchSize: 16,
    embedDim: 128,
    depth: 4,
    heads: 4,
    mlpRatio: 4,
    hooks: [0, 1, 2, 3],
    readout: 'project',
    reassembleChannels: [32, 64, 128, 256],
    features: 32,
    inputSize: 384,
  },
  /** ViT-S/14 encoder with Depth-Anything-V2-Small's decoder sizes (~24.8M parameters). */
  'dpt-vits14-518': {
    name: 'dpt-vits14-518',
    patchSize: 14,
    embedDim: 384,
    depth: 12,
    heads: 6,
    mlpRatio: 4,
    hooks: [2, 5, 8, 11],
    readout: 'ignore',
    reassembleChannels: [48, 96, 192, 384],
    features: 64,
    inputSize: 518,
  },
} as const satisfies Record<string, DptConfig>;

export type DptConfigName = keyof typeof DPT_CONFIGS;

export function validateDptConfig(c: DptConfig): void {
  const problems: string[] = [];
  if (c.embedDim % c.heads !== 0) problems.push(`embedDim ${c.embedDim} is not divisible by heads ${c.heads}`);
  if (c.inputSize % c.patchSize !== 0) problems.push(`inputSize ${c.inputSize} is not a multiple of patchSize ${c.patchSize}`);
  if (c.hooks.some((h, i) => !Number.isInteger(h) || h < 0 || h >= c.depth || (i > 0 && h <= c.hooks[i - 1])))
    problems.push(`hooks ${c.hooks.join(',')} must be increasing block indices below depth ${c.depth}`);
  if (c.features % 2 !== 0) problems.push(`features ${c.features} must be even (the head halves it)`);
  if (problems.length) throw new Error(`invalid DPT config ${c.name}: ${problems.join('; ')}`);
}

/**
 * How the family's reference code prepares frames: patch-16 DPT models
 * (MiDaS v3 style) use 0.5/0.5 normalisation and bicubic output; patch-14
 * Depth-Anything style models use ImageNet statistics and bilinear
 * align_corners upsampling of the prediction.
 */
export function dptPreprocessSpec(c: DptConfig): PreprocessSpec {
  const family = FAMILY_SPECS[c.patchSize === 14 ? 'depth-anything' : 'dpt'];
  return { ...family, width: c.inputSize, height: c.inputSize, multipleOf: c.patchSize };
}

import { checkDerivedBuffer } from '../derived.js';
import { readMidasDecoder, type MidasDecoderConfig } from '../midas/index.js';
import { shapeReader, type ShapeReader } from '../shape-reader.js';
import type { StateDict } from '../weights.js';
import { attentionBiasIndex } from './attention-bias.js';

/** One entry of timm's Levit.blocks, as its keys and shapes say. `res`: tokens per side of its input. */
export type LevitBlock =
  | { readonly kind: 'attention'; readonly dim: number; readonly heads: number; readonly keyDim: number; readonly valueDim: number; readonly res: number }
  | { readonly kind: 'mlp'; readonly dim: number; readonly hidden: number; readonly res: number }
  | {
      readonly kind: 'subsample';
      readonly inDim: number;
      readonly outDim: number;
      readonly heads: number;
      readonly keyDim: number;
      readonly valueDim: number;
      readonly res: number;
      readonly stride: number;
    };

/** Everything that decides the graph of MiDaS v3.1 LeViT-224 (backbone levit_384). */
export interface LevitConfig {
  /** The fixed square input: model_loader.py squashes every frame to it. */
  readonly inputSize: number;
  /** Output channels of the stem's four 3x3 stride-2 ConvNorms. */
  readonly stem: readonly number[];
  readonly blocks: readonly LevitBlock[];
  /** Blocks whose outputs are the decoder's three maps (dpt_depth.py). */
  readonly hooks: readonly number[];
  /** Output channels of stem_transpose's two ConvTransposeNorms. */
  readonly stemTranspose: readonly number[];
  readonly decoder: MidasDecoderConfig;
}

const M = 'pretrained.model';
/** dpt_depth.py hooks for levit_384 (allowed ranges [0, 3], [6, 11], [14, 21]). */
const HOOKS = [3, 11, 21] as const;
/** stem_b16 halves the input four times. */
const STEM_CONVS = 4;
/** AttentionSubsample's stride in every timm LeViT (down_ops). */
const SUBSAMPLE_STRIDE = 2;

function readBlock(r: ShapeReader, dict: StateDict, i: number, dim: number, res: number): LevitBlock {
  const b = `${M}.blocks.${i}`;
  if (dict.has(`${b}.m.attention_biases`)) {
    const [heads, area] = r.shape(`${b}.m.attention_biases`, 2);
    if (area !== res * res) throw r.mismatch(`${b}.m.attention_biases covers ${area} positions, the map there has ${res}x${res}`);
    const [qkv, inF] = r.shape(`${b}.m.qkv.c.weight`, 2);
    const [outF, values] = r.shape(`${b}.m.proj.1.c.weight`, 2);
    const valueDim = values / heads;
    const keyDim = (qkv / heads - valueDim) / 2;
    if (inF !== dim || outF !== dim || !Number.isInteger(valueDim) || !Number.isInteger(keyDim) || keyDim <= 0) {
      throw r.mismatch(`attention block ${i}'s qkv [${qkv}, ${inF}] and proj [${outF}, ${values}] do not fit ${heads} heads on width ${dim}`);
    }
    return { kind: 'attention', dim, heads, keyDim, valueDim, res };
  }
  if (dict.has(`${b}.m.0.c.weight`)) {
    const [hidden, inF] = r.shape(`${b}.m.0.c.weight`, 2);
    const [outF, hiddenIn] = r.shape(`${b}.m.2.c.weight`, 2);
    if (inF !== dim || outF !== dim || hiddenIn !== hidden) throw r.mismatch(`MLP block ${i} is [${hidden}, ${inF}] then [${outF}, ${hiddenIn}], the width there is ${dim}`);
    return { kind: 'mlp', dim, hidden, res };
  }
  if (dict.has(`${b}.attention_biases`)) {
    const [heads, area] = r.shape(`${b}.attention_biases`, 2);
    if (area !== res * res) throw r.mismatch(`${b}.attention_biases covers ${area} positions, the map there has ${res}x${res}`);
    const [q, qIn] = r.shape(`${b}.q.1.c.weight`, 2);
    const [kv, kvIn] = r.shape(`${b}.kv.c.weight`, 2);
    const [outDim, values] = r.shape(`${b}.proj.1.c.weight`, 2);
    const keyDim = q / heads;
    const valueDim = values / heads;
    if (qIn !== dim || kvIn !== dim || !Number.isInteger(keyDim) || !Number.isInteger(valueDim) || kv !== heads * (keyDim + valueDim)) {
      throw r.mismatch(`subsampling block ${i}'s q [${q}, ${qIn}], kv [${kv}, ${kvIn}] and proj [${outDim}, ${values}] do not fit ${heads} heads on width ${dim}`);
    }
    return { kind: 'subsample', inDim: dim, outDim, heads, keyDim, valueDim, res, stride: SUBSAMPLE_STRIDE };
  }
  throw r.mismatch(`${b} is neither an attention, an MLP nor a subsampling block`);
}

/** Width and map side after a block. */
export function blockOutput(b: LevitBlock): { dim: number; res: number } {
  return b.kind === 'subsample' ? { dim: b.outDim, res: Math.ceil(b.res / b.stride) } : { dim: b.dim, res: b.res };
}

/** Reads the config off the tensor shapes; any contradiction is one CHECKPOINT_MISMATCH line. */
export function inferLevitConfig(dict: StateDict, file: string): LevitConfig {
  const r = shapeReader(dict, file, 'MiDaS v3.1 LeViT');
  const stem: number[] = [];
  let inC = 3;
  for (let s = 0; s < STEM_CONVS; s++) {
    const [out, cin, k, k2] = r.shape(`${M}.patch_embed.${2 * s}.c.weight`, 4);
    if (cin !== inC || k !== 3 || k2 !== 3) throw r.mismatch(`${M}.patch_embed.${2 * s}.c.weight is [${out}, ${cin}, ${k}, ${k2}], LeViT's stem takes ${inC} channels through a 3x3 conv`);
    stem.push(out);
    inC = out;
  }
  // The first attention block's bias covers the map the stem leaves: 16x smaller than the input.
  const [, area] = r.shape(`${M}.blocks.0.m.attention_biases`, 2);
  let res = Math.round(Math.sqrt(area));
  if (res * res !== area) throw r.mismatch(`${M}.blocks.0.m.attention_biases covers ${area} positions, not a square map`);
  const inputSize = res * 2 ** STEM_CONVS;

  const count = r.count(/^pretrained\.model\.blocks\.(\d+)\./);
  const blocks: LevitBlock[] = [];
  const grids: number[] = [];
  const widths: number[] = [];
  let dim = inC;
  for (let i = 0; i < count; i++) {
    const block = readBlock(r, dict, i, dim, res);
    blocks.push(block);
    ({ dim, res } = blockOutput(block));
    grids.push(res);
    widths.push(dim);
  }
  if (HOOKS[2] >= count) throw r.mismatch(`${count} blocks, but MiDaS's levit_384 hooks block ${HOOKS[2]}`);

  const decoder = readMidasDecoder(r);
  const hooked = HOOKS.map((h) => widths[h]);
  if (decoder.mapChannels.length !== 3 || decoder.mapChannels.some((c, i) => c !== hooked[i])) {
    throw r.mismatch(`scratch.layerN_rn take ${decoder.mapChannels.join('/')} channels, blocks ${HOOKS.join(', ')} give ${hooked.join('/')}`);
  }
  const [t0in, t0out] = r.shape('scratch.stem_transpose.0.c.weight', 4);
  const [t1in, t1out] = r.shape('scratch.stem_transpose.2.c.weight', 4);
  if (t0in !== decoder.features || t1in !== t0out || t1out !== decoder.headFeatures) {
    throw r.mismatch(`stem_transpose goes ${t0in} -> ${t0out}, ${t1in} -> ${t1out}; the fusion path has ${decoder.features} channels and the head takes ${decoder.headFeatures}`);
  }
  const config: LevitConfig = { inputSize, stem, blocks, hooks: [...HOOKS], stemTranspose: [t0out, t1out], decoder };
  checkBiasIndices(dict, config, file);
  return config;
}

export function describeLevitConfig(c: LevitConfig): string {
  const stages = c.blocks.filter((b) => b.kind === 'attention');
  const widths = [...new Set(stages.map((b) => (b.kind === 'attention' ? b.dim : 0)))];
  const heads = [...new Set(stages.map((b) => (b.kind === 'attention' ? b.heads : 0)))];
  return (
    `LeViT-${widths[0]} ${c.inputSize}x${c.inputSize} (widths ${widths.join(',')}, heads ${heads.join(',')}, ${c.blocks.length} blocks), ` +
    `hooks ${c.hooks.join(',')}, features ${c.decoder.features}, head ${c.decoder.headFeatures}/${c.decoder.headHidden}`
  );
}

/** attention_bias_idxs, when the checkpoint carries them (timm registers them as persistent buffers), must be what the map sizes give. */
function checkBiasIndices(dict: StateDict, c: LevitConfig, file: string): void {
  c.blocks.forEach((b, i) => {
    if (b.kind === 'mlp') return;
    const key = b.kind === 'attention' ? `${M}.blocks.${i}.m.attention_bias_idxs` : `${M}.blocks.${i}.attention_bias_idxs`;
    const stride = b.kind === 'attention' ? 1 : b.stride;
    const resOut = Math.ceil(b.res / stride);
    checkDerivedBuffer(dict, key, { shape: [resOut * resOut, b.res * b.res], values: () => attentionBiasIndex(b.res, stride) }, file, `LeViT-${c.inputSize}`);
  });
}

import { DepthVideoError } from '../../errors.js';
import { checkDerivedBuffer } from '../derived.js';
import { readMidasDecoder, type MidasDecoderConfig } from '../midas/index.js';
import { shapeReader } from '../shape-reader.js';
import type { StateDict } from '../weights.js';
import { attentionMask, effectiveWindow, relativeCoordsTable, relativePositionIndex, shiftedWindowRegions } from './windows.js';

export type SwinV2Model = 'tiny' | 'base' | 'large';

/** Everything that decides the graph of a MiDaS v3.1 SwinV2 DPT. */
export interface SwinV2Config {
  readonly model: SwinV2Model;
  /** MiDaS's backbone name (dpt_depth.py) and the timm model it creates (backbones/swin2.py). */
  readonly backbone: string;
  readonly timmModel: string;
  /** The fixed square input: model_loader.py squashes every frame to it. */
  readonly inputSize: number;
  readonly patchSize: number;
  readonly embedDim: number;
  /** Blocks per stage. */
  readonly depths: readonly number[];
  readonly heads: readonly number[];
  readonly mlpRatio: number;
  /** The configured window; a stage narrower than it uses its own width and no shift. */
  readonly window: number;
  /** Per stage, the window the position-bias MLP was pretrained on (0: none, use the window). */
  readonly pretrainedWindows: readonly number[];
  /** Per stage, the block whose output is the stage's map (MiDaS's hooks). */
  readonly hooks: readonly number[];
  readonly decoder: MidasDecoderConfig;
}

/**
 * What the shapes cannot say, by width (the three MiDaS v3.1 SwinV2
 * backbones: swin2.py and timm's model definitions): the window, the input
 * size, the pretraining windows, and dpt_depth.py's hooks, which are each
 * stage's last block.
 */
const MODELS = {
  96: { model: 'tiny', backbone: 'swin2t16_256', timmModel: 'swinv2_tiny_window16_256', inputSize: 256, window: 16, pretrainedWindows: [0, 0, 0, 0], hooks: [1, 1, 5, 1] },
  128: { model: 'base', backbone: 'swin2b24_384', timmModel: 'swinv2_base_window12to24_192to384_22kft1k', inputSize: 384, window: 24, pretrainedWindows: [12, 12, 12, 6], hooks: [1, 1, 17, 1] },
  192: { model: 'large', backbone: 'swin2l24_384', timmModel: 'swinv2_large_window12to24_192to384_22kft1k', inputSize: 384, window: 24, pretrainedWindows: [12, 12, 12, 6], hooks: [1, 1, 17, 1] },
} as const;

const M = 'pretrained.model';
const STAGES = 4;

/** Reads the config off the tensor shapes; any contradiction is one CHECKPOINT_MISMATCH line. */
export function inferSwinV2Config(dict: StateDict, file: string): SwinV2Config {
  const r = shapeReader(dict, file, 'MiDaS v3.1 SwinV2');
  const [E, inC, p, p2] = r.shape(`${M}.patch_embed.proj.weight`, 4);
  if (inC !== 3 || p !== 4 || p2 !== 4) throw r.mismatch(`${M}.patch_embed.proj.weight is [${E}, ${inC}, ${p}, ${p2}], SwinV2 embeds 4x4 patches of 3 channels`);
  const known = MODELS[E as keyof typeof MODELS];
  if (!known) throw r.mismatch(`width ${E} is none of MiDaS's SwinV2-T/B/L (96, 128, 192)`);

  const stages = r.count(/^pretrained\.model\.layers\.(\d+)\./);
  if (stages !== STAGES) throw r.mismatch(`${stages} stages, SwinV2 has ${STAGES}`);
  const depths: number[] = [];
  const heads: number[] = [];
  let mlpRatio = 0;
  for (let s = 0; s < STAGES; s++) {
    const dim = E * 2 ** s;
    depths.push(r.count(new RegExp(`^pretrained\\.model\\.layers\\.${s}\\.blocks\\.(\\d+)\\.`)));
    if (depths[s] <= known.hooks[s]) throw r.mismatch(`stage ${s} has ${depths[s]} blocks, but MiDaS's ${known.backbone} hooks block ${known.hooks[s]}`);
    heads.push(r.shape(`${M}.layers.${s}.blocks.0.attn.logit_scale`, 3)[0]);
    if (dim % heads[s] !== 0) throw r.mismatch(`stage ${s}: width ${dim} does not split into ${heads[s]} heads`);
    const [hidden, inF] = r.shape(`${M}.layers.${s}.blocks.0.mlp.fc1.weight`, 2);
    if (inF !== dim) throw r.mismatch(`${M}.layers.${s}.blocks.0.mlp.fc1.weight takes ${inF} channels, stage ${s} has ${dim}`);
    if (s === 0) mlpRatio = hidden / dim;
    else if (hidden !== mlpRatio * dim) throw r.mismatch(`stage ${s}'s MLP is ${hidden} wide, not ${mlpRatio} x ${dim}`);
  }
  const decoder = readMidasDecoder(r);
  const widths = [0, 1, 2, 3].map((s) => E * 2 ** s);
  if (decoder.mapChannels.length !== STAGES || decoder.mapChannels.some((c, i) => c !== widths[i])) {
    throw r.mismatch(`scratch.layerN_rn take ${decoder.mapChannels.join('/')} channels, the stages give ${widths.join('/')}`);
  }
  const config: SwinV2Config = { ...known, patchSize: p, embedDim: E, depths, heads, mlpRatio, decoder };
  checkSwinBuffers(dict, config, file);
  return config;
}

export function describeSwinV2Config(c: SwinV2Config): string {
  return (
    `SwinV2-${c.model[0].toUpperCase()} ${c.inputSize}x${c.inputSize} (width ${c.embedDim}, depths ${c.depths.join(',')}, heads ${c.heads.join(',')}, ` +
    `window ${c.window}${c.pretrainedWindows.some((w) => w > 0) ? `, pretrained windows ${c.pretrainedWindows.join(',')}` : ''}), hooks ${c.hooks.join(',')}, features ${c.decoder.features}`
  );
}

/**
 * The window buffers a checkpoint may carry (attn_mask is persistent in
 * timm v0.6.12; older files also hold relative_position_index and
 * relative_coords_table) must be those this config derives.
 */
function checkSwinBuffers(dict: StateDict, c: SwinV2Config, file: string): void {
  const describe = `SwinV2-${c.model[0].toUpperCase()} ${c.inputSize}`;
  let res = c.inputSize / c.patchSize;
  for (let s = 0; s < STAGES; s++, res /= 2) {
    const { window, shift } = effectiveWindow(res, c.window, Math.floor(c.window / 2));
    const n = window * window;
    const side = 2 * window - 1;
    for (let b = 0; b < c.depths[s]; b++) {
      const name = `${M}.layers.${s}.blocks.${b}`;
      const blockShift = b % 2 === 1 ? shift : 0;
      if (blockShift > 0) {
        const values = (): Float32Array => attentionMask(shiftedWindowRegions(res, window, blockShift), window);
        checkDerivedBuffer(dict, `${name}.attn_mask`, { shape: [(res * res) / n, n, n], values }, file, describe);
      } else if (dict.has(`${name}.attn_mask`)) {
        throw new DepthVideoError('CHECKPOINT_MISMATCH', `${file}: ${name}.attn_mask is there, but ${describe} does not shift that block's windows; the checkpoint does not match ${describe} (check --family)`, { file });
      }
      checkDerivedBuffer(dict, `${name}.attn.relative_position_index`, { shape: [n, n], values: () => relativePositionIndex(window) }, file, describe);
      checkDerivedBuffer(dict, `${name}.attn.relative_coords_table`, { shape: [1, side, side, 2], values: () => relativeCoordsTable(window, c.pretrainedWindows[s]), tolerance: 1e-6 }, file, describe);
    }
  }
}

import type { TensorEntry } from '../checkpoint/index.js';
import type { SwinV2Model } from './config.js';
import { attentionMask, shiftedWindowRegions } from './windows.js';

/** timm's definitions of the three MiDaS SwinV2 backbones (swin_transformer_v2.py at v0.6.12). */
export const SWINV2_SHAPES: Readonly<Record<SwinV2Model, { readonly embedDim: number; readonly depths: readonly number[]; readonly heads: readonly number[]; readonly inputSize: number; readonly window: number }>> = {
  tiny: { embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], inputSize: 256, window: 16 },
  base: { embedDim: 128, depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], inputSize: 384, window: 24 },
  large: { embedDim: 192, depths: [2, 2, 18, 2], heads: [6, 12, 24, 48], inputSize: 384, window: 24 },
};

/**
 * Every key and shape of `DPTDepthModel(backbone="swin2…").state_dict()`, in
 * its order, written down from the official modules (timm's
 * SwinTransformerV2 with its 1000-class head, MiDaS's _make_scratch,
 * FeatureFusionBlock_custom and head), not from the converter's key map.
 * `attn_mask` marks the persistent buffers of the shifted blocks. For
 * benchmarks and tests that need a full-size checkpoint without the file.
 */
export function swinV2StateDictShapes(model: SwinV2Model): { key: string; shape: number[]; attnMask?: true }[] {
  const { embedDim: E, depths, heads, inputSize, window } = SWINV2_SHAPES[model];
  const out: { key: string; shape: number[]; attnMask?: true }[] = [];
  const add = (key: string, shape: number[]): void => void out.push({ key, shape });
  const M = 'pretrained.model';
  add(`${M}.patch_embed.proj.weight`, [E, 3, 4, 4]);
  add(`${M}.patch_embed.proj.bias`, [E]);
  add(`${M}.patch_embed.norm.weight`, [E]);
  add(`${M}.patch_embed.norm.bias`, [E]);
  let res = inputSize / 4;
  for (let s = 0; s < 4; s++, res /= 2) {
    const d = E * 2 ** s;
    const h = heads[s];
    const w = Math.min(window, res);
    for (let b = 0; b < depths[s]; b++) {
      const p = `${M}.layers.${s}.blocks.${b}`;
      if (b % 2 === 1 && res > window) out.push({ key: `${p}.attn_mask`, shape: [(res / w) ** 2, w * w, w * w], attnMask: true });
      add(`${p}.attn.logit_scale`, [h, 1, 1]);
      add(`${p}.attn.q_bias`, [d]);
      add(`${p}.attn.v_bias`, [d]);
      add(`${p}.attn.cpb_mlp.0.weight`, [512, 2]);
      add(`${p}.attn.cpb_mlp.0.bias`, [512]);
      add(`${p}.attn.cpb_mlp.2.weight`, [h, 512]);
      add(`${p}.attn.qkv.weight`, [3 * d, d]);
      add(`${p}.attn.proj.weight`, [d, d]);
      add(`${p}.attn.proj.bias`, [d]);
      add(`${p}.norm1.weight`, [d]);
      add(`${p}.norm1.bias`, [d]);
      add(`${p}.mlp.fc1.weight`, [4 * d, d]);
      add(`${p}.mlp.fc1.bias`, [4 * d]);
      add(`${p}.mlp.fc2.weight`, [d, 4 * d]);
      add(`${p}.mlp.fc2.bias`, [d]);
      add(`${p}.norm2.weight`, [d]);
      add(`${p}.norm2.bias`, [d]);
    }
    if (s < 3) {
      add(`${M}.layers.${s}.downsample.reduction.weight`, [2 * d, 4 * d]);
      add(`${M}.layers.${s}.downsample.norm.weight`, [2 * d]);
      add(`${M}.layers.${s}.downsample.norm.bias`, [2 * d]);
    }
  }
  add(`${M}.norm.weight`, [8 * E]);
  add(`${M}.norm.bias`, [8 * E]);
  add(`${M}.head.weight`, [1000, 8 * E]);
  add(`${M}.head.bias`, [1000]);
  const F = 256;
  for (let s = 0; s < 4; s++) add(`scratch.layer${s + 1}_rn.weight`, [F, E * 2 ** s, 3, 3]);
  for (let r = 1; r <= 4; r++) {
    add(`scratch.refinenet${r}.out_conv.weight`, [F, F, 1, 1]);
    add(`scratch.refinenet${r}.out_conv.bias`, [F]);
    for (const unit of ['resConfUnit1', 'resConfUnit2']) {
      for (const c of ['conv1', 'conv2']) {
        add(`scratch.refinenet${r}.${unit}.${c}.weight`, [F, F, 3, 3]);
        add(`scratch.refinenet${r}.${unit}.${c}.bias`, [F]);
      }
    }
  }
  add('scratch.output_conv.0.weight', [F / 2, F, 3, 3]);
  add('scratch.output_conv.0.bias', [F / 2]);
  add('scratch.output_conv.2.weight', [32, F / 2, 3, 3]);
  add('scratch.output_conv.2.bias', [32]);
  add('scratch.output_conv.4.weight', [1, 32, 1, 1]);
  add('scratch.output_conv.4.bias', [1]);
  return out;
}

/**
 * That state dict as checkpoint entries with zero weights (the writer leaves
 * holes, so a full-size file costs no disk) and the real attn_mask buffers,
 * which the converter checks: for timing and memory measurements.
 */
export function zeroSwinV2Checkpoint(model: SwinV2Model): TensorEntry[] {
  const { window } = SWINV2_SHAPES[model];
  return swinV2StateDictShapes(model).map(({ key, shape, attnMask }) => ({
    key,
    dtype: 'float32' as const,
    shape,
    // [windows, w², w²]: the map is sqrt(windows) windows wide, shifted by half a window.
    data: attnMask ? () => attentionMask(shiftedWindowRegions(Math.sqrt(shape[0]) * window, window, window / 2), window) : undefined,
  }));
}

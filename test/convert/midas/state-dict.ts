import type { TensorEntry } from '../../../src/convert/checkpoint/index.js';
import type { StateTensor } from '../../../src/convert/weights.js';
import { relativePositionIndex } from '../../../src/convert/beit/index.js';
import { mulberry32, normalArray } from '../../../src/inference/generate/random.js';

/** Shape of a MiDaS v3 DPT state dict, as DPTDepthModel(backbone=…).state_dict() lays it out. */
export interface MidasShape {
  readonly encoder: 'vit' | 'hybrid' | 'beit';
  readonly embedDim: number;
  readonly depth: number;
  /** ViT: the position grid G; BEiT: the window W of the bias tables. */
  readonly grid: number;
  /** BEiT: heads (the tables' second dimension). */
  readonly heads?: number;
  readonly features: number;
  readonly maps: readonly [number, number, number, number];
  /** BEiT: include the relative_position_index buffers. */
  readonly withIndex?: boolean;
}

export const DPT_LARGE: MidasShape = { encoder: 'vit', embedDim: 1024, depth: 24, grid: 24, features: 256, maps: [256, 512, 1024, 1024] };
export const DPT_HYBRID: MidasShape = { encoder: 'hybrid', embedDim: 768, depth: 12, grid: 24, features: 256, maps: [256, 512, 768, 768] };
export const BEIT_B_384: MidasShape = { encoder: 'beit', embedDim: 768, depth: 12, grid: 24, heads: 12, features: 256, maps: [96, 192, 384, 768] };
export const BEIT_L_512: MidasShape = { encoder: 'beit', embedDim: 1024, depth: 24, grid: 32, heads: 16, features: 256, maps: [256, 512, 1024, 1024] };

export interface KeyShape {
  readonly key: string;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int64';
}

/**
 * Every key and shape in state_dict() order, written down from the official
 * modules (timm v0.6.12 VisionTransformer, ResNetV2, Beit; MiDaS
 * backbones/utils.py make_backbone_default, vit.py _make_vit_b_rn50_backbone,
 * blocks.py _make_scratch, dpt_depth.py), not from the converter's key maps,
 * so a test can tell the maps are complete.
 */
export function midasKeys(s: MidasShape): KeyShape[] {
  const E = s.embedDim;
  const out: KeyShape[] = [];
  const add = (key: string, shape: number[], dtype: 'float32' | 'int64' = 'float32'): void => void out.push({ key, shape, dtype });
  const vec = (key: string, n: number): void => (add(`${key}.weight`, [n]), add(`${key}.bias`, [n]));
  const lin = (key: string, o: number, i: number, bias = true): void => {
    add(`${key}.weight`, [o, i]);
    if (bias) add(`${key}.bias`, [o]);
  };
  const conv = (key: string, o: number, i: number, k: number, bias = true): void => {
    add(`${key}.weight`, [o, i, k, k]);
    if (bias) add(`${key}.bias`, [o]);
  };
  const M = 'pretrained.model';
  add(`${M}.cls_token`, [1, 1, E]);
  if (s.encoder !== 'beit') add(`${M}.pos_embed`, [1, 1 + s.grid * s.grid, E]);
  if (s.encoder === 'hybrid') {
    const B = `${M}.patch_embed.backbone`;
    add(`${B}.stem.conv.weight`, [64, 3, 7, 7]);
    vec(`${B}.stem.norm`, 64);
    let inC = 64;
    [3, 4, 9].forEach((blocks, st) => {
      const outC = [256, 512, 1024][st];
      const mid = outC / 4;
      for (let b = 0; b < blocks; b++) {
        const p = `${B}.stages.${st}.blocks.${b}`;
        if (b === 0) (conv(`${p}.downsample.conv`, outC, inC, 1, false), vec(`${p}.downsample.norm`, outC));
        conv(`${p}.conv1`, mid, b === 0 ? inC : outC, 1, false);
        vec(`${p}.norm1`, mid);
        conv(`${p}.conv2`, mid, mid, 3, false);
        vec(`${p}.norm2`, mid);
        conv(`${p}.conv3`, outC, mid, 1, false);
        vec(`${p}.norm3`, outC);
      }
      inC = outC;
    });
    conv(`${M}.patch_embed.proj`, E, 1024, 1);
  } else conv(`${M}.patch_embed.proj`, E, 3, 16);
  for (let b = 0; b < s.depth; b++) {
    const p = `${M}.blocks.${b}`;
    if (s.encoder === 'beit') {
      add(`${p}.gamma_1`, [E]);
      add(`${p}.gamma_2`, [E]);
    }
    vec(`${p}.norm1`, E);
    if (s.encoder === 'beit') {
      const side = 2 * s.grid - 1;
      add(`${p}.attn.q_bias`, [E]);
      add(`${p}.attn.v_bias`, [E]);
      add(`${p}.attn.relative_position_bias_table`, [side * side + 3, s.heads!]);
      if (s.withIndex) add(`${p}.attn.relative_position_index`, [s.grid * s.grid + 1, s.grid * s.grid + 1], 'int64');
      lin(`${p}.attn.qkv`, 3 * E, E, false);
    } else lin(`${p}.attn.qkv`, 3 * E, E);
    lin(`${p}.attn.proj`, E, E);
    vec(`${p}.norm2`, E);
    lin(`${p}.mlp.fc1`, 4 * E, E);
    lin(`${p}.mlp.fc2`, E, 4 * E);
  }
  vec(s.encoder === 'beit' ? `${M}.fc_norm` : `${M}.norm`, E);
  lin(`${M}.head`, 1000, E);
  const [c0, c1, c2, c3] = s.maps;
  const first = s.encoder === 'hybrid' ? 2 : 0;
  for (let n = first; n < 4; n++) {
    const p = `pretrained.act_postprocess${n + 1}`;
    lin(`${p}.0.project.0`, E, 2 * E);
    conv(`${p}.3`, s.maps[n], E, 1);
    if (n === 0) conv(`${p}.4`, c0, c0, 4);
    if (n === 1) add(`${p}.4.weight`, [c1, c1, 2, 2]), add(`${p}.4.bias`, [c1]);
    if (n === 3) conv(`${p}.4`, c3, c3, 3);
  }
  const f = s.features;
  [c0, c1, c2, c3].forEach((c, i) => conv(`scratch.layer${i + 1}_rn`, f, c, 3, false));
  for (let r = 1; r <= 4; r++) {
    const p = `scratch.refinenet${r}`;
    conv(`${p}.out_conv`, f, f, 1);
    for (const u of [1, 2]) for (const c of [1, 2]) conv(`${p}.resConfUnit${u}.conv${c}`, f, f, 3);
  }
  conv('scratch.output_conv.0', f / 2, f, 3);
  conv('scratch.output_conv.2', 32, f / 2, 3);
  conv('scratch.output_conv.4', 1, 32, 1);
  return out;
}

/** Shapes only, for planning a conversion without values. */
export function shapesOnly(keys: readonly KeyShape[]): Map<string, StateTensor> {
  return new Map(keys.map(({ key, shape, dtype }) => [key, { dtype, shape, readFloat32: () => new Float32Array(0) }]));
}

/**
 * Checkpoint entries with seeded N(0, std) values (norm weights and gammas
 * around 1; stored relative position indices as the architecture makes them),
 * generated one tensor at a time while written.
 */
export function randomEntries(s: MidasShape, seed = 1, std = 0.05): TensorEntry[] {
  return midasKeys(s).map(({ key, shape, dtype }, i) => {
    if (dtype === 'int64') return { key, dtype, shape, data: () => BigInt64Array.from(relativePositionIndex(s.grid, s.grid), (v) => BigInt(v)) };
    const data = (): Float32Array => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = normalArray(mulberry32(seed * 7919 + i), n, std);
      if (/(norm\d?\.weight|gamma_\d)$/.test(key)) for (let j = 0; j < n; j++) v[j] += 1;
      return v;
    };
    return { key, dtype, shape, data };
  });
}

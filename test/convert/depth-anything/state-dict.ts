import type { StateDict, StateTensor } from '../../../src/convert/weights.js';
import { mulberry32, normalArray } from '../../../src/inference/generate/random.js';

/** Shape of a Depth-Anything state dict, as DepthAnythingV2(...).state_dict() lays it out. */
export interface DaShape {
  readonly embedDim: number;
  readonly depth: number;
  readonly posGrid: number;
  readonly features: number;
  readonly outChannels: readonly [number, number, number, number];
  readonly swiglu?: boolean;
  readonly useClsToken?: boolean;
}

export const VITS: DaShape = { embedDim: 384, depth: 12, posGrid: 37, features: 64, outChannels: [48, 96, 192, 384] };
export const VITL: DaShape = { embedDim: 1024, depth: 24, posGrid: 37, features: 256, outChannels: [256, 512, 1024, 1024] };

/**
 * Every key and shape in state_dict() order, written down from the official
 * modules (dinov2.py DinoVisionTransformer, dpt.py DPTHead, util/blocks.py),
 * not from the converter's key map, so a test can tell the map is complete.
 */
export function depthAnythingKeys(s: DaShape): { key: string; shape: number[] }[] {
  const E = s.embedDim;
  const out: { key: string; shape: number[] }[] = [];
  const add = (key: string, shape: number[]): void => void out.push({ key, shape });
  const lin = (key: string, o: number, i: number): void => (add(`${key}.weight`, [o, i]), add(`${key}.bias`, [o]));
  const conv = (key: string, o: number, i: number, k: number, bias = true): void => {
    add(`${key}.weight`, [o, i, k, k]);
    if (bias) add(`${key}.bias`, [o]);
  };
  add('pretrained.cls_token', [1, 1, E]);
  add('pretrained.pos_embed', [1, 1 + s.posGrid * s.posGrid, E]);
  add('pretrained.mask_token', [1, E]);
  conv('pretrained.patch_embed.proj', E, 3, 14);
  const hidden = s.swiglu ? ((Math.floor((4 * E * 2) / 3) + 7) >> 3) << 3 : 4 * E;
  for (let b = 0; b < s.depth; b++) {
    const p = `pretrained.blocks.${b}`;
    add(`${p}.norm1.weight`, [E]);
    add(`${p}.norm1.bias`, [E]);
    lin(`${p}.attn.qkv`, 3 * E, E);
    lin(`${p}.attn.proj`, E, E);
    add(`${p}.ls1.gamma`, [E]);
    add(`${p}.norm2.weight`, [E]);
    add(`${p}.norm2.bias`, [E]);
    if (s.swiglu) {
      lin(`${p}.mlp.w12`, 2 * hidden, E);
      lin(`${p}.mlp.w3`, E, hidden);
    } else {
      lin(`${p}.mlp.fc1`, hidden, E);
      lin(`${p}.mlp.fc2`, E, hidden);
    }
    add(`${p}.ls2.gamma`, [E]);
  }
  add('pretrained.norm.weight', [E]);
  add('pretrained.norm.bias', [E]);
  const [c0, c1, c2, c3] = s.outChannels;
  s.outChannels.forEach((c, i) => conv(`depth_head.projects.${i}`, c, E, 1));
  add('depth_head.resize_layers.0.weight', [c0, c0, 4, 4]);
  add('depth_head.resize_layers.0.bias', [c0]);
  add('depth_head.resize_layers.1.weight', [c1, c1, 2, 2]);
  add('depth_head.resize_layers.1.bias', [c1]);
  conv('depth_head.resize_layers.3', c3, c3, 3);
  if (s.useClsToken) for (let i = 0; i < 4; i++) lin(`depth_head.readout_projects.${i}.0`, E, 2 * E);
  const f = s.features;
  [c0, c1, c2, c3].forEach((c, i) => conv(`depth_head.scratch.layer${i + 1}_rn`, f, c, 3, false));
  for (let r = 1; r <= 4; r++) {
    const p = `depth_head.scratch.refinenet${r}`;
    conv(`${p}.out_conv`, f, f, 1);
    for (const u of [1, 2]) for (const c of [1, 2]) conv(`${p}.resConfUnit${u}.conv${c}`, f, f, 3);
  }
  conv('depth_head.scratch.output_conv1', f / 2, f, 3);
  conv('depth_head.scratch.output_conv2.0', 32, f / 2, 3);
  conv('depth_head.scratch.output_conv2.2', 1, 32, 1);
  return out;
}

/**
 * The keys as an in-memory state dict of seeded N(0, std) values (LayerNorm
 * weights and gammas around 1); std 0 gives constant values, fast to make.
 */
export function randomStateDict(s: DaShape, seed = 1, std = 0.05): Map<string, StateTensor & { values: Float32Array }> {
  const rng = mulberry32(seed);
  const dict = new Map<string, StateTensor & { values: Float32Array }>();
  for (const { key, shape } of depthAnythingKeys(s)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = std === 0 ? new Float32Array(n) : normalArray(rng, n, std);
    if (/(norm\d?\.weight|gamma)$/.test(key)) for (let i = 0; i < n; i++) values[i] += 1;
    dict.set(key, { dtype: 'float32', shape, values, readFloat32: () => values });
  }
  return dict;
}

export type { StateDict };

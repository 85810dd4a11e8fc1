import type { VitConfig } from '../../inference/generate/dpt/vit.js';
import { readMidasDecoder, type MidasDecoderConfig } from '../midas/index.js';
import { shapeReader, type ShapeReader } from '../shape-reader.js';
import type { StateDict } from '../weights.js';

/** The hybrid's ResNet-50 (timm ResNetV2, preact=False, layers (3, 4, 9)), from its shapes. */
export interface ResNetConfig {
  /** Output channels of the stem conv. */
  readonly stemWidth: number;
  /** Bottleneck blocks per stage. */
  readonly depths: readonly number[];
  /** Output channels of each stage (conv3 of its blocks). */
  readonly widths: readonly number[];
  /** Bottleneck channels of each stage (conv1 of its blocks). */
  readonly mids: readonly number[];
}

export type MidasVitModel = 'dpt-large' | 'dpt-base' | 'dpt-hybrid';

/** Everything that decides the graph of a MiDaS v3.0 ViT DPT, inferred from tensor shapes. */
export interface MidasVitConfig {
  readonly model: MidasVitModel;
  /** The MiDaS backbone name (dpt_depth.py): vitl16_384, vitb16_384, vitb_rn50_384. */
  readonly backbone: string;
  readonly vit: VitConfig;
  /** Blocks whose raw outputs are reassembled, one per ViT-fed map. */
  readonly hooks: readonly number[];
  readonly resnet: ResNetConfig | null;
  readonly decoder: MidasDecoderConfig;
}

const M = 'pretrained.model';
const HEAD_DIM = 64; // timm ViT-B/16 (12 x 64) and ViT-L/16 (16 x 64)

/**
 * DPT's hooks by backbone (dpt_depth.py). The hybrid registers only the last
 * two: its first two maps are ResNet stages 0 and 1 (backbones/vit.py
 * _make_vit_b_rn50_backbone with use_vit_only=False).
 */
const HOOKS = { vitl16_384: [5, 11, 17, 23], vitb16_384: [2, 5, 8, 11], vitb_rn50_384: [8, 11] } as const;

function readResNet(r: ShapeReader, stageCount: number): ResNetConfig {
  const B = `${M}.patch_embed.backbone`;
  const stemWidth = r.shape(`${B}.stem.conv.weight`, 4)[0];
  const depths: number[] = [];
  const widths: number[] = [];
  const mids: number[] = [];
  for (let s = 0; s < stageCount; s++) {
    const blocks = r.count(new RegExp(`^${B.replace(/\./g, '\\.')}\\.stages\\.${s}\\.blocks\\.(\\d+)\\.`));
    if (blocks === 0) throw r.mismatch(`ResNet stage ${s} has no blocks`);
    depths.push(blocks);
    widths.push(r.shape(`${B}.stages.${s}.blocks.0.conv3.weight`, 4)[0]);
    mids.push(r.shape(`${B}.stages.${s}.blocks.0.conv1.weight`, 4)[0]);
  }
  return { stemWidth, depths, widths, mids };
}

/** Reads the config off the tensor shapes; any contradiction is one CHECKPOINT_MISMATCH line. */
export function inferVitConfig(dict: StateDict, file: string): MidasVitConfig {
  const hybrid = dict.has(`${M}.patch_embed.backbone.stem.conv.weight`);
  const r = shapeReader(dict, file, `MiDaS v3.0 DPT-${hybrid ? 'Hybrid' : 'Large'}`);
  const pos = r.shape(`${M}.pos_embed`, 3);
  const E = pos[2];
  const posGrid = Math.round(Math.sqrt(pos[1] - 1));
  if (pos[0] !== 1 || posGrid * posGrid !== pos[1] - 1) throw r.mismatch(`${M}.pos_embed is [${pos.join(', ')}], expected [1, 1 + G*G, E]`);
  if (E % HEAD_DIM !== 0) throw r.mismatch(`width ${E} is not a whole number of ${HEAD_DIM}-wide heads`);
  const depth = r.count(/^pretrained\.model\.blocks\.(\d+)\./);

  let resnet: ResNetConfig | null = null;
  let backbone: keyof typeof HOOKS;
  let model: MidasVitModel;
  if (hybrid) {
    const stages = r.count(/^pretrained\.model\.patch_embed\.backbone\.stages\.(\d+)\./);
    // Stem /4, then stages at strides 1, 2, 2: three stages make the /16 grid the position embeddings cover.
    if (stages !== 3) throw r.mismatch(`the hybrid's ResNet has ${stages} stages, DPT-Hybrid's has 3 (an output stride of 16)`);
    resnet = readResNet(r, stages);
    [backbone, model] = ['vitb_rn50_384', 'dpt-hybrid'];
  } else {
    const [e, c, p, p2] = r.shape(`${M}.patch_embed.proj.weight`, 4);
    if (e !== E || c !== 3 || p !== 16 || p2 !== 16) throw r.mismatch(`${M}.patch_embed.proj.weight is [${e}, ${c}, ${p}, ${p2}], expected [${E}, 3, 16, 16]`);
    [backbone, model] = depth === 24 ? ['vitl16_384', 'dpt-large'] : ['vitb16_384', 'dpt-base'];
  }
  const expectedDepth = backbone === 'vitl16_384' ? 24 : 12;
  if (depth !== expectedDepth) throw r.mismatch(`${depth} transformer blocks, MiDaS's ${backbone} has ${expectedDepth}`);

  const decoder = readMidasDecoder(r);
  if (decoder.mapChannels.length !== 4) throw r.mismatch(`${decoder.mapChannels.length} decoder maps, a ViT DPT has 4`);
  if (resnet) {
    // Stages 0 and 1 go straight to layer1_rn and layer2_rn (act_postprocess1/2 are identities).
    for (const s of [0, 1]) {
      if (decoder.mapChannels[s] !== resnet.widths[s]) {
        throw r.mismatch(`scratch.layer${s + 1}_rn takes ${decoder.mapChannels[s]} channels but ResNet stage ${s} gives ${resnet.widths[s]}`);
      }
    }
  }
  return {
    model,
    backbone,
    vit: {
      patchSize: 16,
      embedDim: E,
      depth,
      heads: E / HEAD_DIM,
      mlpHidden: r.shape(`${M}.blocks.0.mlp.fc1.weight`, 2)[0],
      ffn: 'mlp',
      layerScale: false,
      posGrid,
      posEmbedResize: 'bilinear',
    },
    hooks: [...HOOKS[backbone]],
    resnet,
    decoder,
  };
}

const LABEL: Record<MidasVitModel, string> = { 'dpt-large': 'ViT-L/16', 'dpt-base': 'ViT-B/16', 'dpt-hybrid': 'ViT-B/16 + ResNet-50' };

export function describeVitConfig(c: MidasVitConfig): string {
  const v = c.vit;
  const resnet = c.resnet ? `, ResNet stages ${c.resnet.depths.join('/')} (${c.resnet.widths.join('/')} channels)` : '';
  return (
    `${LABEL[c.model]} (width ${v.embedDim}, ${v.depth} blocks, ${v.heads} heads, MLP ${v.mlpHidden}, position grid ${v.posGrid})${resnet}, ` +
    `hooks ${c.hooks.join(',')}, readout project, features ${c.decoder.features}, maps ${c.decoder.mapChannels.join('/')}`
  );
}

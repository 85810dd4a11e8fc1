import { FAMILY_SPECS } from '../../inference/families.js';
import type { Ctx } from '../../inference/generate/dpt/layers.js';
import type { ConverterFamily, FamilyPlan, PlanOptions } from '../family.js';
import { chosenByShapes, isMidasKey, MIDAS_DECODER_KEYS, midasDecoder } from '../midas/index.js';
import type { StateDict } from '../weights.js';
import { describeSwinV2Config, inferSwinV2Config, type SwinV2Config } from './config.js';
import { SWINV2_KEYS } from './key-map.js';
import { swinV2Encoder } from './swinv2.js';
import { FAMILY_CATALOGUE } from '../catalogue.js';

export { inferSwinV2Config, type SwinV2Config, type SwinV2Model } from './config.js';
export { SWINV2_KEYS } from './key-map.js';

/**
 * MiDaS v3.1 DPT on a SwinV2 (see WALKTHROUGH.md): the last block of each
 * of the four stages, laid out as a map, goes straight into the MiDaS
 * decoder.
 */
export function buildSwinV2(ctx: Ctx, c: SwinV2Config, image: string): string {
  return midasDecoder(ctx, c.decoder, swinV2Encoder(ctx, c, image), image);
}

const REQUIRED = [
  'pretrained.model.patch_embed.proj.weight',
  'pretrained.model.layers.0.blocks.0.attn.logit_scale',
  'pretrained.model.layers.0.blocks.0.attn.cpb_mlp.0.weight',
  ...MIDAS_DECODER_KEYS,
];

export const swinV2: ConverterFamily = {
  ...FAMILY_CATALOGUE.swinV2,
  detect: (keys) => REQUIRED.every((k) => keys.has(k)),
  knows: isMidasKey,
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan {
    const config = inferSwinV2Config(dict, opts.file);
    const family = config.inputSize === 256 ? 'swin2-256' : 'swin2-384';
    return {
      variant: `midas-v31-swin2-${config.model}-${config.inputSize}`,
      chosenBy: chosenByShapes(opts),
      summary: describeSwinV2Config(config),
      config,
      keyMap: SWINV2_KEYS,
      // model_loader.py dpt_swin2_*: keep_aspect_ratio = False, so every frame is squashed to the fixed size.
      runtimeFamily: family,
      spec: FAMILY_SPECS[family],
      inputSize: { width: config.inputSize, height: config.inputSize },
      output: 'relative-inverse-depth',
      notes: [],
      build: (ctx, image) => buildSwinV2(ctx, config, image),
    };
  },
};

import { FAMILY_SPECS } from '../../inference/families.js';
import { vitEncoder } from '../../inference/generate/dpt/build.js';
import type { Ctx } from '../../inference/generate/dpt/layers.js';
import type { ConverterFamily, FamilyPlan, PlanOptions } from '../family.js';
import { chosenByShapes, isMidasKey, MIDAS_DECODER_KEYS, midasDecoder, vitReassembly } from '../midas/index.js';
import type { StateDict } from '../weights.js';
import { describeBeitConfig, inferBeitConfig, type BeitConfig } from './config.js';
import { MIDAS_BEIT_KEYS } from './key-map.js';
import { relativePositionBias, relativePositionIndexOf } from './relative-position.js';
import { FAMILY_CATALOGUE } from '../catalogue.js';

export { inferBeitConfig, type BeitConfig } from './config.js';
export { MIDAS_BEIT_KEYS } from './key-map.js';
export { relativePositionIndex, relativePositionIndexOf, relativePositionBias } from './relative-position.js';

/**
 * MiDaS v3.1 DPT on BEiT (see WALKTHROUGH.md): patch embedding and class
 * token, blocks with q/v biases, LayerScale and a relative position bias
 * that follows the input's grid; the hooked blocks' raw tokens are
 * reassembled as for ViT and go through the MiDaS decoder.
 */
export function buildMidasBeit(ctx: Ctx, c: BeitConfig, image: string): string {
  let index: string | undefined;
  const attentionBias = (block: number, grid: string): string => {
    index ??= relativePositionIndexOf(ctx, grid);
    return relativePositionBias(ctx, `blocks.${block}.attn`, c.window, c.vit.heads, grid, index);
  };
  const { hooked, grid } = vitEncoder(ctx, c.vit, c.hooks, image, { finalNorm: false, attentionBias });
  const maps = vitReassembly(ctx, c.vit.embedDim, c.decoder.mapChannels, hooked, grid);
  return midasDecoder(ctx, c.decoder, maps, image);
}

const REQUIRED = ['pretrained.model.cls_token', 'pretrained.model.blocks.0.attn.relative_position_bias_table', 'pretrained.model.blocks.0.attn.q_bias', ...MIDAS_DECODER_KEYS];

export const midasBeit: ConverterFamily = {
  ...FAMILY_CATALOGUE.midasBeit,
  detect: (keys) => REQUIRED.every((k) => keys.has(k)),
  knows: isMidasKey,
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan {
    const config = inferBeitConfig(dict, opts.file);
    const size = config.window * 16;
    return {
      variant: `midas-beit-${config.vit.embedDim === 768 ? 'base' : 'large'}-${size}`,
      chosenBy: chosenByShapes(opts),
      summary: describeBeitConfig(config),
      config,
      keyMap: MIDAS_BEIT_KEYS,
      // model_loader.py dpt_beit_*: net size 384 or 512, "minimal", keep aspect, multiple of 32, mean = std = 0.5.
      runtimeFamily: config.runtimeFamily,
      spec: FAMILY_SPECS[config.runtimeFamily],
      output: 'relative-inverse-depth',
      notes: [],
      build: (ctx, image) => buildMidasBeit(ctx, config, image),
    };
  },
};

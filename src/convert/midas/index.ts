import type { PlanOptions } from '../family.js';
import { KeyMap, type KeyRule, type UnusedKey } from '../key-map.js';
import { MIDAS_DECODER_RULES, midasDecoderUnused } from './key-map.js';

/**
 * What every MiDaS v3.0/v3.1 family shares (see WALKTHROUGH.md): the decoder's
 * key map, its config read off `scratch.*`, and the decoder and ViT
 * reassembly graph parts.
 */
export { MIDAS_DECODER_RULES, midasDecoderUnused } from './key-map.js';
export { readMidasDecoder, type MidasDecoderConfig } from './config.js';
export { midasDecoder, vitReassembly } from './decoder.js';

/** A family's key map: its encoder's rules first, then the shared decoder's. */
export function midasKeyMap(encoderRules: readonly KeyRule[], encoderUnused: readonly UnusedKey[], maps: 3 | 4): KeyMap {
  return new KeyMap([...encoderRules, ...MIDAS_DECODER_RULES], [...encoderUnused, ...midasDecoderUnused(maps)]);
}

/** Keys every MiDaS v3 DPT state dict has (DPT.scratch), whatever its encoder. */
export const MIDAS_DECODER_KEYS = ['scratch.layer1_rn.weight', 'scratch.refinenet1.out_conv.weight', 'scratch.output_conv.0.weight'] as const;

/** Whether a key belongs to a MiDaS v3 DPT state dict (DPT.pretrained.model, .act_postprocessN, DPT.scratch). */
export function isMidasKey(key: string): boolean {
  return /^(pretrained\.(model|act_postprocess\d)\.|scratch\.)/.test(key);
}

/** How a MiDaS variant was chosen: each family reads its one variant off the shapes, so --family only confirms the family. */
export function chosenByShapes(opts: PlanOptions): string {
  return opts.variant !== undefined ? `--family ${opts.variant}` : 'from the keys and shapes';
}

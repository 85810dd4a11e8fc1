import { DepthVideoError } from '../errors.js';
import { midasBeit } from './beit/index.js';
import { depthAnything } from './depth-anything/index.js';
import type { ConverterFamily } from './family.js';
import { levit } from './levit/index.js';
import { swinV2 } from './swinv2/index.js';
import { midasVit } from './vit/index.js';
import { familyEntry, knownFamilies } from './catalogue.js';
import type { StateDict } from './weights.js';

export { canConvertTo, FAMILY_NAMES } from './catalogue.js';

/** Every architecture the converter knows, tried in this order. */
export const CONVERTER_FAMILIES: readonly ConverterFamily[] = [depthAnything, midasVit, midasBeit, swinV2, levit];

/**
 * Families whose official checkpoints we can recognise but not convert, so
 * that their users read what they hold instead of a list of strange keys.
 */
const UNSUPPORTED: readonly { readonly what: string; detect(keys: readonly string[]): boolean }[] = [
  {
    // MiDaS v3.1 dpt_next_vit_large_384.pt: Next-ViT's NCB blocks (multi-head convolutional attention) and NTB blocks (efficient MHSA).
    what: 'a MiDaS v3.1 Next-ViT checkpoint (dpt_next_vit_large_384)',
    detect: (keys) => keys.some((k) => /^pretrained\.model\.features\.\d+\.(mhca|e_mhsa)\./.test(k)),
  },
  {
    // MiDaS v3.1 dpt_swin_large_384.pt: timm's Swin v1 (a learned bias table; no cosine attention, logit scale or continuous position bias MLP as in SwinV2).
    what: 'a MiDaS v3.1 Swin (v1) checkpoint (dpt_swin_large_384)',
    detect: (keys) =>
      keys.some((k) => /^pretrained\.model\.layers\.\d+\.blocks\.\d+\.attn\.relative_position_bias_table$/.test(k)) &&
      !keys.some((k) => /\.attn\.(logit_scale|cpb_mlp\.)/.test(k)),
  },
];

/** The family a `--family` value names; anything else is one usage line listing the known ones. */
export function familyNamed(variant: string): ConverterFamily {
  const entry = familyEntry(variant);
  return CONVERTER_FAMILIES.find((f) => f.name === entry.name)!;
}

/** The family named by `--family`, or the one whose keys the state dict has. */
export function selectFamily(dict: StateDict, file: string, variant?: string): ConverterFamily {
  if (variant !== undefined) return familyNamed(variant);
  const keys = new Set(dict.keys());
  const found = CONVERTER_FAMILIES.find((f) => f.detect(keys));
  if (found) return found;
  const all = [...dict.keys()];
  const unsupported = UNSUPPORTED.find((u) => u.detect(all));
  if (unsupported) {
    throw new DepthVideoError('CHECKPOINT_UNKNOWN', `${file}: ${unsupported.what}: depth-video cannot convert this family; it converts ${CONVERTER_FAMILIES.map((f) => f.name).join(', ')} (see \`depth-video models list\`)`, { file });
  }
  const strange = all.filter((k) => !CONVERTER_FAMILIES.some((f) => f.knows(k)));
  const shown = (strange.length ? strange : all).slice(0, 4);
  const what = all.length === 0 ? 'it holds no tensors' : `first unrecognised keys ${shown.join(', ')}${all.length > shown.length ? ` (of ${all.length} keys)` : ''}`;
  throw new DepthVideoError('CHECKPOINT_UNKNOWN', `${file}: unknown architecture: ${what}; known families: ${knownFamilies()}`, { file });
}

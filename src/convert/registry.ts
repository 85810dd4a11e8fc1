import { DepthVideoError } from '../errors.js';
import { depthAnything } from './depth-anything/index.js';
import type { ConverterFamily } from './family.js';
import type { StateDict } from './weights.js';

/** Every architecture the converter knows, tried in this order. */
export const CONVERTER_FAMILIES: readonly ConverterFamily[] = [depthAnything];

function knownFamilies(): string {
  return CONVERTER_FAMILIES.map((f) => `${f.name} (--family ${f.variants.join(' | ')})`).join('; ');
}

/** The family named by `--family`, or the one whose keys the state dict has. */
export function selectFamily(dict: StateDict, file: string, variant?: string): ConverterFamily {
  if (variant !== undefined) {
    const named = CONVERTER_FAMILIES.find((f) => f.variants.includes(variant));
    if (!named) throw new DepthVideoError('USAGE', `unknown --family ${variant}; known: ${knownFamilies()}`);
    return named;
  }
  const keys = new Set(dict.keys());
  const found = CONVERTER_FAMILIES.find((f) => f.detect(keys));
  if (found) return found;
  const all = [...dict.keys()];
  const strange = all.filter((k) => !CONVERTER_FAMILIES.some((f) => f.knows(k)));
  const shown = (strange.length ? strange : all).slice(0, 4);
  const what = all.length === 0 ? 'it holds no tensors' : `first unrecognised keys ${shown.join(', ')}${all.length > shown.length ? ` (of ${all.length} keys)` : ''}`;
  throw new DepthVideoError('CHECKPOINT_UNKNOWN', `${file}: unknown architecture: ${what}; known families: ${knownFamilies()}`, { file });
}

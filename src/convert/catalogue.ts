import { DepthVideoError } from '../errors.js';
import type { FamilyName } from '../inference/families.js';

/**
 * What the rest of the tool needs to know about the converter without
 * loading it: each family's name, its `--family` values and the
 * preprocessing families its conversions carry, and the version stamped on
 * converted models. The families' graph code (49 modules) is imported only
 * when a checkpoint is converted, so a run of an ONNX model does not pay for
 * it at start-up; each family's index.ts takes these facts from here.
 */
export interface FamilyEntry {
  readonly name: string;
  /** `--family` values it answers to, e.g. depth-anything-v1. */
  readonly variants: readonly string[];
  /** The preprocessing families (depth_video.family) its conversions carry. */
  readonly produces: readonly FamilyName[];
}

export const FAMILY_CATALOGUE = {
  depthAnything: { name: 'depth-anything', variants: ['depth-anything', 'depth-anything-v1', 'depth-anything-v2', 'depth-anything-v2-metric'], produces: ['depth-anything'] },
  midasVit: { name: 'midas-vit', variants: ['midas-vit'], produces: ['dpt'] },
  midasBeit: { name: 'midas-beit', variants: ['midas-beit'], produces: ['beit-384', 'beit-512'] },
  swinV2: { name: 'midas-swin2', variants: ['midas-swin2'], produces: ['swin2-256', 'swin2-384'] },
  levit: { name: 'midas-levit', variants: ['midas-levit'], produces: ['levit-224'] },
} as const satisfies Record<string, FamilyEntry>;

/** In the order the registry tries them. */
const ENTRIES: readonly FamilyEntry[] = Object.values(FAMILY_CATALOGUE);

/** Every `--family` value. */
export const FAMILY_NAMES: readonly string[] = ENTRIES.flatMap((f) => f.variants);

/** Whether some family converts checkpoints into models of this preprocessing family. */
export function canConvertTo(family: FamilyName): boolean {
  return ENTRIES.some((f) => f.produces.includes(family));
}

/** The families as a usage message lists them. */
export function knownFamilies(): string {
  return ENTRIES.map((f) => `${f.name} (--family ${f.variants.join(' | ')})`).join('; ');
}

/** The family entry a `--family` value names; anything else is one usage line listing the known ones. */
export function familyEntry(variant: string): FamilyEntry {
  const named = ENTRIES.find((f) => f.variants.includes(variant));
  if (!named) throw new DepthVideoError('USAGE', `unknown --family ${variant}; known: ${knownFamilies()}`);
  return named;
}

/** Bump when a converter change alters converted models, so cached conversions are redone. */
export const CONVERTER_VERSION = 1;
export const CONVERTER_VERSION_KEY = 'depth_video.converter_version';
export const SOURCE_SHA256_KEY = 'depth_video.source_sha256';

/**
 * Official PyTorch checkpoints to ONNX, in TypeScript: the reader
 * (checkpoint/), one folder per architecture family with its key map and
 * walkthrough (depth-anything/, …), the registry that picks the family, and
 * the conversion that streams the model to disk.
 */
export {
  checkOutput,
  convertCheckpoint,
  convertStateDict,
  planConversion,
  CONVERTER_VERSION,
  CONVERTER_VERSION_KEY,
  SOURCE_SHA256_KEY,
  type Conversion,
  type ConvertOptions,
  type ConvertResult,
  type Source,
} from './convert.js';
export type { ConverterFamily, FamilyPlan, PlanOptions } from './family.js';
export { KeyMap, type KeyRule, type UnusedKey } from './key-map.js';
export { canConvertTo, CONVERTER_FAMILIES, familyNamed, FAMILY_NAMES, selectFamily } from './registry.js';
export { CheckpointWeights, type StateDict, type StateTensor } from './weights.js';

/**
 * PyTorch checkpoints (torch.save zip files and .safetensors) read without
 * Python and without executing anything: the pickle is parsed by a small
 * opcode interpreter that only knows the globals a state dict needs. See
 * README.md beside this file for the formats and the choices made.
 */
export type {
  Checkpoint,
  CheckpointEntry,
  TensorData,
  TensorDType,
  TensorEntry,
  TensorRef,
  TensorViewEntry,
  WriteCheckpointOptions,
  WriteTorchOptions,
} from './types.js';
export { openCheckpoint } from './open.js';
export { writeTorchCheckpoint } from './torch-writer.js';
export { writeSafetensors } from './safetensors.js';
export { lowbias32, hashFill, readReferenceKeys, referenceEntries, writeReferenceCheckpoint } from './reference-keys.js';
export type { ReferenceKey, ReferenceKeys, ComputedFill } from './reference-keys.js';
export { sha256File } from '../../models/download.js';

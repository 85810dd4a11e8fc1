import type { CheckpointEntry, WriteTorchOptions } from './types.js';

/** Writes a state dict as torch.save (PyTorch ≥ 1.6) does: a zip with data.pkl and 64-byte aligned storages. */
export function writeTorchCheckpoint(path: string, entries: Iterable<CheckpointEntry>, opts: WriteTorchOptions = {}): void {
  void path; void entries; void opts;
  throw new Error('writeTorchCheckpoint is not implemented yet');
}

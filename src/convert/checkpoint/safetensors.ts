import type { TensorEntry, WriteCheckpointOptions } from './types.js';

/** Writes a .safetensors file. */
export function writeSafetensors(path: string, entries: Iterable<TensorEntry>, opts: WriteCheckpointOptions = {}): void {
  void path; void entries; void opts;
  throw new Error('writeSafetensors is not implemented yet');
}

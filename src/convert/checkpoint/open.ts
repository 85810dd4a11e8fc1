import { damagedCheckpoint, invalidCheckpoint, legacyCheckpoint } from './errors.js';
import { RandomAccessFile } from './file.js';
import { looksLikeSafetensors, openSafetensors } from './safetensors.js';
import { openTorchZip } from './torch-zip.js';
import type { Checkpoint, TensorRef } from './types.js';

// Pre-1.6 torch.save files start with a pickled magic number (protocol 2, LONG1 0x1950a86a20f9469cfc6c).
const LEGACY_MAGIC = Buffer.from('80028a0a6cfc9c46f9206aa85019', 'hex');

class OpenCheckpoint implements Checkpoint {
  constructor(
    readonly path: string,
    readonly format: 'torch-zip' | 'safetensors',
    readonly tensors: ReadonlyMap<string, TensorRef>,
    readonly wrapper: string | null,
    private readonly file: RandomAccessFile,
  ) {}

  close(): void {
    this.file.close();
  }
}

/**
 * Opens a torch.save zip (.pt/.pth) or a .safetensors file, recognised by
 * content, not name. Reads the zip's central directory and the pickle only;
 * tensor bytes are read when asked for. Throws a one-line DepthVideoError for
 * anything else: legacy torch files, truncated downloads, zips that are not
 * checkpoints, pickles that name globals a state dict never needs.
 */
export function openCheckpoint(path: string): Checkpoint {
  const file = new RandomAccessFile(path);
  try {
    if (file.size === 0) throw damagedCheckpoint(path, 'the file is empty');
    const head = file.read(0, Math.min(file.size, 512));
    if (head.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC) || head.subarray(257, 262).toString('latin1') === 'ustar') {
      throw legacyCheckpoint(path);
    }
    if (head[0] === 0x50 && head[1] === 0x4b) {
      const { tensors, wrapper } = openTorchZip(file);
      return new OpenCheckpoint(path, 'torch-zip', tensors, wrapper, file);
    }
    if (looksLikeSafetensors(head)) return new OpenCheckpoint(path, 'safetensors', openSafetensors(file), null, file);
    if (head[0] === 0x80) {
      throw invalidCheckpoint(path, 'a bare pickle, not a torch.save checkpoint; save the weights with torch.save(model.state_dict(), path) on PyTorch ≥ 1.6');
    }
    throw invalidCheckpoint(path, 'not a PyTorch checkpoint: neither a torch.save zip (.pt/.pth) nor a .safetensors file');
  } catch (e) {
    file.close();
    throw e;
  }
}

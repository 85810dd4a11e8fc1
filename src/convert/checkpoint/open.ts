import { DepthVideoError } from '../../errors.js';
import type { Checkpoint } from './types.js';

/** Opens a torch.save zip or a .safetensors file (format from its content, not its name). */
export function openCheckpoint(path: string): Checkpoint {
  throw new DepthVideoError('CHECKPOINT_INVALID', `${path}: the checkpoint reader is not implemented yet`, { file: path });
}

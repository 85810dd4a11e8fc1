import { DepthVideoError } from '../errors.js';
import type { StateDict } from './weights.js';

/**
 * Buffers an architecture derives from its config (relative position
 * indices, Swin attention masks, LeViT bias indices) are computed by the
 * converter, never read from the file. Released checkpoints may carry them;
 * a copy that disagrees means the file is not the architecture the config
 * describes, so it is refused rather than ignored.
 */
export function checkDerivedBuffer(
  dict: StateDict,
  key: string,
  expected: {
    readonly shape: readonly number[];
    readonly values: () => ArrayLike<number>;
    /** Allowed difference, for buffers PyTorch computes with transcendental functions (default: exact). */
    readonly tolerance?: number;
  },
  file: string,
  describe: string,
): void {
  const t = dict.get(key);
  if (!t) return;
  const mismatch = (what: string): DepthVideoError =>
    new DepthVideoError('CHECKPOINT_MISMATCH', `${file}: ${key} ${what}; the checkpoint does not match ${describe} (check --family)`, { file });
  if (t.shape.length !== expected.shape.length || t.shape.some((d, i) => d !== expected.shape[i])) {
    throw mismatch(`is [${t.shape.join(', ')}], but ${describe} derives [${expected.shape.join(', ')}]`);
  }
  const got = t.readFloat32();
  const want = expected.values();
  const tolerance = expected.tolerance ?? 0;
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tolerance)) throw mismatch(`holds ${got[i]} at element ${i}, but ${describe} derives ${want[i]}`);
  }
}

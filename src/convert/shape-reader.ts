import { DepthVideoError } from '../errors.js';
import type { StateDict } from './weights.js';

/**
 * Reads a state dict's shapes for one family's config; every contradiction
 * is one CHECKPOINT_MISMATCH line naming the file, the key and the family.
 */
export interface ShapeReader {
  /** The shape of `key`, which must exist with `rank` dimensions. */
  shape(key: string, rank: number): readonly number[];
  /** 1 + the highest N among keys matching `pattern` (its first group is N); 0 when none match. */
  count(pattern: RegExp): number;
  mismatch(what: string): DepthVideoError;
}

export function shapeReader(dict: StateDict, file: string, family: string): ShapeReader {
  const mismatch = (what: string): DepthVideoError =>
    new DepthVideoError('CHECKPOINT_MISMATCH', `${file}: ${what}; the checkpoint does not match ${family} (check --family)`, { file });
  return {
    mismatch,
    shape(key, rank) {
      const t = dict.get(key);
      if (!t) throw mismatch(`${key} is missing`);
      if (t.shape.length !== rank) throw mismatch(`${key} is [${t.shape.join(', ')}], expected ${rank} dimensions`);
      return t.shape;
    },
    count(pattern) {
      let n = 0;
      for (const key of dict.keys()) {
        const m = pattern.exec(key);
        if (m) n = Math.max(n, Number(m[1]) + 1);
      }
      return n;
    },
  };
}

import { DepthVideoError } from '../errors.js';
import type { GraphBuilder } from '../inference/generate/graph.js';
import type { WeightRequest, WeightSource } from '../inference/generate/dpt/weights.js';
import type { KeyMap } from './key-map.js';

/** What a weight source needs of a checkpoint tensor (the reader's TensorRef has more). */
export interface StateTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The values in C order as float32, read from disk now. */
  readFloat32(): Float32Array;
}

export type StateDict = ReadonlyMap<string, StateTensor>;

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** [rows, cols] -> [cols, rows]. */
function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/**
 * Weights read from a checkpoint: each DPT name goes through the family's key
 * map to a checkpoint key; the tensor's shape is checked now, its values are
 * read only when the model is written (one tensor at a time), and nn.Linear
 * weights are transposed on the way. Each key may feed one initializer.
 */
export class CheckpointWeights implements WeightSource {
  private readonly used = new Set<string>();

  /** `describe` names the family and config in error messages ("depth-anything-v2 ViT-S/14"). */
  constructor(
    private readonly tensors: StateDict,
    private readonly keys: KeyMap,
    private readonly file: string,
    private readonly describe: string,
  ) {}

  take(g: GraphBuilder, r: WeightRequest): string {
    const key = this.keys.keyFor(r.name);
    // A DPT name without a rule is a bug in the family's key map, not in the user's file.
    if (key === null) throw new Error(`key map of ${this.describe} has no rule for ${r.name}`);
    if (this.used.has(key)) throw new Error(`key map of ${this.describe} sends two tensors to ${key}`);
    const t = this.tensors.get(key);
    const expected = r.transposed ? [...r.dims].reverse() : [...r.dims];
    if (!t) {
      throw new DepthVideoError('CHECKPOINT_MISMATCH', `${this.file}: ${this.describe} needs ${key} ${fmt(expected)}, which the checkpoint lacks; check --family, or the file is not this architecture`, { file: this.file });
    }
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new DepthVideoError(
        'CHECKPOINT_MISMATCH',
        `${this.file}: ${key} is ${fmt(t.shape)} but ${this.describe} needs ${fmt(expected)}; the shapes contradict the family (check --family)`,
        { file: this.file },
      );
    }
    this.used.add(key);
    const read = (): Float32Array => {
      const v = t.readFloat32();
      return r.transposed ? transpose2d(v, expected[0], expected[1]) : v;
    };
    return g.param(key, r.dims, async () => read());
  }

  /** Checkpoint keys the graph did not take and the key map does not explain. */
  unexplained(): string[] {
    return [...this.tensors.keys()].filter((k) => !this.used.has(k) && this.keys.unusedReason(k) === null);
  }

  /** Keys taken so far. */
  get usedKeys(): ReadonlySet<string> {
    return this.used;
  }
}

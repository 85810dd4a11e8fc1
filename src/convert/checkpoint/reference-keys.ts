/**
 * Rebuilds a reference state dict from a `keys.json` (../shared/reference/midas/<name>/):
 * every key in state_dict() order with its shape, dtype and fill. Hash-filled
 * tensors are generated here bit for bit; buffers the architecture derives
 * ("computed …") are left out unless a callback supplies them.
 */
import { readFileSync } from 'node:fs';
import { elementCount } from './dtype.js';
import { writeTorchCheckpoint } from './torch-writer.js';
import type { TensorData, TensorDType, TensorEntry } from './types.js';

/** One key of a reference `keys.json`. */
export interface ReferenceKey {
  readonly key: string;
  readonly shape: readonly number[];
  readonly dtype: TensorDType;
  readonly parameter: boolean;
  /** 'hash', or 'computed …' for buffers the architecture derives. */
  readonly fill: string;
  readonly index?: number;
  readonly base?: number;
  readonly amp?: number;
}

export interface ReferenceKeys {
  readonly name: string;
  readonly backbone: string;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly parameters: number;
  readonly keys: readonly ReferenceKey[];
}

/** Fills a computed buffer, or returns undefined to leave it out of the state dict. */
export type ComputedFill = (key: ReferenceKey) => TensorData | undefined;

/** lowbias32 of (index, i) with every multiply and add wrapping mod 2^32, as the reference README defines it. */
export function lowbias32(index: number, i: number): number {
  let h = (Math.imul(index, 0x9e3779b1) + Math.imul(i, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** value[i] = float32(base + amp·u), u = lowbias32(index, i)/2^32·2 − 1, in float64 and rounded once. */
export function hashFill(index: number, base: number, amp: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = base + amp * ((lowbias32(index, i) / 4294967296) * 2 - 1);
  return out;
}

export function readReferenceKeys(path: string): ReferenceKeys {
  const ref = JSON.parse(readFileSync(path, 'utf8')) as ReferenceKeys;
  if (!Array.isArray(ref.keys)) throw new Error(`${path} has no keys list`);
  return ref;
}

/** The state dict's entries in order, each generated only when written. */
export function referenceEntries(ref: ReferenceKeys, computed?: ComputedFill): TensorEntry[] {
  const out: TensorEntry[] = [];
  for (const k of ref.keys) {
    if (k.fill === 'hash') {
      if (k.dtype !== 'float32' || k.index === undefined || k.base === undefined || k.amp === undefined) {
        throw new Error(`${k.key}: a hash fill needs a float32 tensor with index, base and amp`);
      }
      const { index, base, amp } = k;
      out.push({ key: k.key, dtype: 'float32', shape: k.shape, data: () => hashFill(index, base, amp, elementCount(k.shape)) });
    } else if (k.fill.startsWith('computed')) {
      const data = computed?.(k);
      if (data !== undefined) out.push({ key: k.key, dtype: k.dtype, shape: k.shape, data });
    } else {
      throw new Error(`${k.key}: unknown fill '${k.fill}'`);
    }
  }
  return out;
}

/** Rebuilds the reference state dict of `keysJson` and writes it as a torch.save zip at `out`. */
export function writeReferenceCheckpoint(keysJson: string, out: string, opts: { computed?: ComputedFill; overwrite?: boolean } = {}): ReferenceKeys {
  const ref = readReferenceKeys(keysJson);
  writeTorchCheckpoint(out, referenceEntries(ref, opts.computed), { overwrite: opts.overwrite ?? false });
  return ref;
}

import type { TensorData, TensorDType, TensorEntry } from './types.js';

/** One key of a reference `keys.json` (../shared/reference/midas/<name>/keys.json). */
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

export function lowbias32(index: number, i: number): number {
  void index; void i;
  throw new Error('not implemented yet');
}

export function hashFill(index: number, base: number, amp: number, count: number): Float32Array {
  void index; void base; void amp; void count;
  throw new Error('not implemented yet');
}

export function readReferenceKeys(path: string): ReferenceKeys {
  void path;
  throw new Error('not implemented yet');
}

export function referenceEntries(ref: ReferenceKeys, computed?: ComputedFill): TensorEntry[] {
  void ref; void computed;
  throw new Error('not implemented yet');
}

export function writeReferenceCheckpoint(keysJson: string, out: string, opts: { computed?: ComputedFill; overwrite?: boolean } = {}): ReferenceKeys {
  void keysJson; void out; void opts;
  throw new Error('not implemented yet');
}

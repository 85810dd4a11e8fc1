import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { readReferenceKeys, referenceEntries, writeTorchCheckpoint, type ComputedFill, type ReferenceKeys, type TensorEntry } from '../../src/convert/checkpoint/index.js';
import { readNpy } from '../../src/sinks/recorder/npy.js';
import { runCli } from '../helpers/media.js';
import { MIDAS_REFERENCE } from './helpers.js';

/**
 * ../shared/reference/midas/<name>: keys.json rebuilt into a real torch.save
 * zip, converted through the CLI, and the official outputs compared.
 */
export function midasReference(name: string): string {
  return join(MIDAS_REFERENCE, name);
}

/** Writes the reference state dict of `name` at `out`; `computed` fills derived buffers, `edit` changes entries. */
export function writeMidasReference(name: string, out: string, opts: { computed?: ComputedFill; edit?: (entries: TensorEntry[]) => TensorEntry[] } = {}): ReferenceKeys {
  const ref = readReferenceKeys(join(midasReference(name), 'keys.json'));
  const entries = referenceEntries(ref, opts.computed);
  writeTorchCheckpoint(out, opts.edit ? opts.edit(entries) : entries, { overwrite: true });
  return ref;
}

/** `depth-video models convert <ckpt> --out <out>`, which must succeed; returns its stdout. */
export async function convertThroughCli(ckpt: string, out: string): Promise<string> {
  const r = await runCli(['models', 'convert', ckpt, '--out', out], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** Max abs error of the model on every input-*.npy against its output-*.npy, as a fraction of that output's range. */
export async function errorsAgainstReference(name: string, onnx: string): Promise<Record<string, number>> {
  const dir = midasReference(name);
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2 });
  const errors: Record<string, number> = {};
  try {
    for (const file of readdirSync(dir).filter((f) => /^input-.*\.npy$/.test(f))) {
      const input = readNpy(join(dir, file));
      const want = readNpy(join(dir, file.replace(/^input-/, 'output-')));
      const depth = (await session.run({ image: new ort.Tensor('float32', input.data, [...input.shape]) })).depth;
      expect(depth.dims, file).toEqual(want.shape);
      const got = depth.data as Float32Array;
      let lo = Infinity;
      let hi = -Infinity;
      let max = 0;
      for (let i = 0; i < want.data.length; i++) {
        lo = Math.min(lo, want.data[i]);
        hi = Math.max(hi, want.data[i]);
        max = Math.max(max, Math.abs(got[i] - want.data[i]));
      }
      errors[file] = max / (hi - lo);
    }
  } finally {
    await session.release();
  }
  return errors;
}

/** Elements of the keys the forward pass reads: every hash-filled tensor except those matching `unused`. */
export function usedParameterCount(ref: ReferenceKeys, unused: RegExp): number {
  return ref.keys.filter((k) => k.fill === 'hash' && !unused.test(k.key)).reduce((n, k) => n + k.shape.reduce((a, b) => a * b, 1), 0);
}

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { readReferenceKeys, referenceEntries, sha256File, writeTorchCheckpoint, type ComputedFill, type ReferenceKeys, type TensorEntry } from '../../src/convert/checkpoint/index.js';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { detectFamily, readOnnxInfo } from '../../src/models/onnx-info.js';
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
async function convertThroughCli(ckpt: string, out: string): Promise<string> {
  const r = await runCli(['models', 'convert', ckpt, '--out', out], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/**
 * Max abs error of the model on every input-*.npy (or only the one named)
 * against its output-*.npy, as a fraction of that output's range.
 */
export async function errorsAgainstReference(name: string, onnx: string, only?: string): Promise<Record<string, number>> {
  const dir = midasReference(name);
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2 });
  const errors: Record<string, number> = {};
  try {
    for (const file of readdirSync(dir).filter((f) => /^input-.*\.npy$/.test(f) && (only === undefined || f === only))) {
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
function usedParameterCount(ref: ReferenceKeys, unused: RegExp): number {
  return ref.keys.filter((k) => k.fill === 'hash' && !unused.test(k.key)).reduce((n, k) => n + k.shape.reduce((a, b) => a * b, 1), 0);
}

/** What a fixed-size MiDaS v3.1 conversion must say and carry. */
export interface FixedSizeExpectation {
  /** The `models convert` summary line up to the parameter count, which it captures. */
  readonly summary: RegExp;
  /** Keys the forward pass never reads. */
  readonly unused: RegExp;
  readonly family: 'swin2-256' | 'swin2-384' | 'levit-224';
  readonly size: number;
}

/**
 * Converts `ckpt` (written from reference `name`) through the CLI into `out`
 * and checks it: the summary line, the parameter count against the keys the
 * graph reads, every official output to 1e-4 of its range, the fixed input
 * and output, the source sha256, and the squash spec the pipeline reads back.
 */
export async function expectFixedSizeConversion(name: string, ref: ReferenceKeys, ckpt: string, out: string, e: FixedSizeExpectation): Promise<void> {
  const stdout = await convertThroughCli(ckpt, out);
  expect(stdout).toMatch(e.summary);
  // BatchNorm running statistics are buffers, not parameters, but the graph reads them like weights.
  expect(Number(/, ([\d,]+) parameters/.exec(stdout)![1].replace(/,/g, ''))).toBe(usedParameterCount(ref, e.unused));

  const errors = await errorsAgainstReference(name, out);
  expect(Object.keys(errors)).toEqual([`input-${e.size}x${e.size}.npy`]);
  for (const [file, err] of Object.entries(errors)) expect(err, file).toBeLessThanOrEqual(1e-4);

  const info = await readOnnxInfo(out);
  expect(info.inputs[0].dims).toEqual([1, 3, e.size, e.size]);
  expect(info.outputs[0].dims).toEqual([1, e.size, e.size]);
  expect(info.metadata['depth_video.source_sha256']).toBe(await sha256File(ckpt));
  const detected = detectFamily(info);
  expect(detected.family).toBe(e.family);
  expect(detected.source).toBe('metadata');
  expect(detected.spec).toEqual({ ...FAMILY_SPECS[e.family], multipleOf: 1 });
  expect(detected.spec).toMatchObject({ width: e.size, height: e.size, keepAspect: false, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], outputInterpolation: 'bicubic' });
}

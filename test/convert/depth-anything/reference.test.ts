import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../src/convert/index.js';
import { readNpy } from '../../../src/sinks/recorder/npy.js';
import { runCli, tempDir } from '../../helpers/media.js';
import { requireOrSkip, sharedDir } from '../../helpers/prerequisites.js';

const REF = join(sharedDir('reference'), 'depth-anything-v2-vits');
const PTH = join(REF, 'depth_anything_v2_vits.pth');
const reference = requireOrSkip(`the official Depth-Anything-V2 reference in ${REF}`, existsSync(PTH));
const dir = tempDir('dv-reference-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Max and mean absolute difference, both as fractions of the reference's range. */
function compare(got: Float32Array, want: Float32Array): { max: number; mean: number } {
  expect(got.length).toBe(want.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of want) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  let max = 0;
  let sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max: max / (hi - lo), mean: sum / got.length / (hi - lo) };
}

reference.describe('official Depth-Anything-V2 outputs', () => {
  it('the converted model on the official input tensor matches output-model.npy to 1e-4 of its range', async () => {
    const out = join(dir, 'da2.onnx');
    const r = await convertCheckpoint(PTH, { out });
    expect(r.variant).toBe('depth-anything-v2');
    // reference.json's 24,785,089 less the tensors no forward pass reads (mask_token, refinenet4.resConfUnit1).
    const ref = JSON.parse(readFileSync(join(REF, 'reference.json'), 'utf8')) as { params: number };
    expect(r.parameterCount).toBe(ref.params - 384 - 2 * (64 * 64 * 9 + 64));
    const input = readNpy(join(REF, 'input-tensor.npy'));
    const want = readNpy(join(REF, 'output-model.npy'));
    const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 2 });
    try {
      const depth = (await session.run({ image: new ort.Tensor('float32', input.data, [...input.shape]) })).depth;
      expect(depth.dims).toEqual(want.shape);
      const d = compare(depth.data as Float32Array, want.data);
      expect(d.max).toBeLessThanOrEqual(1e-4);
    } finally {
      await session.release();
    }
  }, 120_000);

  it('depth-video input.png --model the .pth records the depth of output-image.npy, converting once into the cache', async () => {
    const env = { DEPTH_VIDEO_MODELS: join(dir, 'models') };
    const rec = join(dir, 'rec');
    const args = [join(REF, 'input.png'), '--model', PTH, '--out', join(dir, 'd.png'), '--record', rec, '--record-format', 'float32'];
    const first = await runCli(args, { env, timeoutMs: 300_000 });
    expect(first.code, first.stderr).toBe(0);
    // Said as what is being done, not as a warning, with the conversion's progress (deciles when not a terminal).
    expect(first.stderr).toMatch(/^converting .*depth_anything_v2_vits\.pth to ONNX on first use/m);
    expect(first.stderr).not.toMatch(/warning: convert/);
    expect(first.stderr).toMatch(/^preparing the model: 100% \(/m);
    expect(first.stderr).toMatch(/model depth_anything_v2_vits\b/);

    const got = readNpy(join(rec, 'raw', '000000.npy'));
    const want = readNpy(join(REF, 'output-image.npy'));
    expect(got.shape).toEqual(want.shape);
    const d = compare(got.data, want.data);
    expect(d.mean).toBeLessThanOrEqual(1e-3);
    expect(d.max).toBeLessThanOrEqual(1e-2);

    // The second run finds the conversion by (path, size, mtime) without reading the checkpoint.
    const cached = join(dir, 'models', 'converted', `${JSON.parse(readFileSync(join(rec, 'manifest.json'), 'utf8')).model.path.split('/').pop()}`);
    const mtime = statSync(cached).mtimeMs;
    const second = await runCli([...args.slice(0, 3), '--out', join(dir, 'd2.png')], { env, timeoutMs: 300_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/converting/);
    expect(statSync(cached).mtimeMs).toBe(mtime);
  }, 600_000);

  it('batch --model the .pth says it converts (not as a warning) into a cache of its own, and renders the file', async () => {
    const env = { DEPTH_VIDEO_MODELS: join(dir, 'batch-models') };
    const r = await runCli(['batch', join(REF, 'input.png'), '--out-dir', join(dir, 'batch-out'), '--model', PTH], { env, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^converting .*depth_anything_v2_vits\.pth to ONNX on first use/m);
    expect(r.stderr).not.toMatch(/warning: convert/);
    expect(existsSync(join(dir, 'batch-out', 'input.png'))).toBe(true);
  }, 600_000);
});

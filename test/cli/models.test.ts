import { copyFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';

describe('models commands through the CLI', () => {
  it('models info on the generated DPT model shows its interface, size and family, and says it is untrained', async () => {
    const r = await runCli(['models', 'info', 'dpt-tiny']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/UNTRAINED/);
    expect(r.stdout).toMatch(/input:\s+image\s+float32\s+\[1, 3, H, W\]/);
    expect(r.stdout).toMatch(/output:\s+depth\s+float32\s+\[1, H, W\]/);
    expect(r.stdout).toMatch(/parameters:\s+2,063,443/);
    expect(r.stdout).toMatch(/family:\s+dpt-generated/);
    expect(r.stdout).toMatch(/multiple of 16/);
  });

  it('models list names the zoo with licences and marks the non-commercial ones', async () => {
    const r = await runCli(['models', 'list']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['midas-v21-small-256', 'dpt-large-384', 'depth-anything-v2-small', 'depth-anything-v2-large', 'midas-v31-beit-large-512']) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toMatch(/depth-anything-v2-large.*CC-BY-NC-4.0 \(non-commercial\)/);
  });

  it('an unknown model name lists the close names', async () => {
    const r = await runCli(['models', 'info', 'depth-anything-v2-smal']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown model "depth-anything-v2-smal": did you mean depth-anything-v2-small/);
  });

  it('an execution provider that is not installed is one clear line and exit 1', async () => {
    const dir = tempDir();
    const clip = makeClip(join(dir, 'c.mp4'), 'testsrc2=size=64x48:rate=5:duration=1');
    const r = await runCli([clip, '--out', join(dir, 'o.mp4'), '--model', 'analytic', '--device', 'coreml']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/^depth-video: --device coreml: the coreml execution provider is not available in this onnxruntime-node \(available: cpu[^)]*\); CoreML is only in the macOS builds of onnxruntime-node, or use --device cpu$/);
  });

  it('models list shows each variant under its model, with the published sizes', async () => {
    const r = await runCli(['models', 'list'], { env: { DEPTH_VIDEO_MODELS: tempDir() } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\ndepth-anything-v2-small\s+depth-anything\s+dynamic x14, aspect kept \(lower bound 518\)\s+missing\s+99\.1 MB\s+Apache-2\.0\n/);
    expect(r.stdout).toMatch(/\n {2}depth-anything-v2-small:q4f16\s+depth-anything\s+dynamic x14, aspect kept \(lower bound 518\)\s+missing\s+~19\.1 MB\s+Apache-2\.0\s+\[no checksum\]\n/);
    // Each row's input-size behaviour; the MiDaS v3.0/v3.1 checkpoints are pulled and converted.
    expect(r.stdout).toMatch(/\nmidas-v21-small-256\s+midas-v21-small\s+fixed 256x256, squashed\s+missing\s/);
    expect(r.stdout).toMatch(/\nmidas-v31-beit-large-512\s+beit-512\s+dynamic x32, aspect kept \(minimal 512\)\s+missing\s+\?\s+MIT {2}\[no checksum\] {2}\[PyTorch checkpoint, converted on first use\]\n/);
    expect(r.stdout).toMatch(/\nmidas-v30-dpt-hybrid-384\s+dpt\s+dynamic x32, aspect kept \(minimal 384\)\s+missing\s.*\[PyTorch checkpoint, converted on first use\]\n/);
    // SwinV2 and LeViT: fixed inputs, squashed as model_loader.py does (keep_aspect_ratio = False).
    for (const [name, family, size] of [['midas-v31-swin2-tiny-256', 'swin2-256', 256], ['midas-v31-swin2-large-384', 'swin2-384', 384], ['midas-v31-levit-224', 'levit-224', 224]] as const) {
      expect(r.stdout).toMatch(new RegExp(`\\n${name}\\s+${family}\\s+fixed ${size}x${size}, squashed\\s+missing\\s+\\?\\s+MIT {2}\\[no checksum\\] {2}\\[PyTorch checkpoint, converted on first use\\]\\n`));
    }
    expect(r.stdout).toMatch(/\n {2}depth-anything-v2-small:fp16\s.*~49\.6 MB/);
    expect(r.stdout).toMatch(/\n {2}dpt-large-384:q4f16\s.*~239 MB/);
  });

  it('a bad variant is one line listing the available ones, exit 1', async () => {
    const r = await runCli(['models', 'pull', 'depth-anything-v2-small:fp8']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(errorLine(r.stderr)).toMatch(
      /unknown variant "fp8" of depth-anything-v2-small: available fp32, fp16, quantized, int8, uint8, q4, q4f16, bnb4 \(e\.g\. --model depth-anything-v2-small:fp16/,
    );
  });

  it('--model <name>:<variant> runs the variant file from the models folder', async () => {
    const models = tempDir();
    // Any ONNX stands in for the downloaded q4f16 file; the generated analytic model is quick.
    copyFileSync(await ensureGeneratedModel('analytic', join(models, 'generated')), join(models, 'depth-anything-v2-small.q4f16.onnx'));
    const dir = tempDir();
    const png = makeClip(join(dir, 'p.png'), 'testsrc2=size=32x24:rate=1:duration=1', { codec: ['-frames:v', '1'] });
    const env = { DEPTH_VIDEO_MODELS: models };
    const r = await runCli([png, '--out', join(dir, 'd.png'), '--model', 'depth-anything-v2-small:q4f16', '--no-download', '--json', '-q'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { model: { path: string } }).model.path).toBe(join(models, 'depth-anything-v2-small.q4f16.onnx'));
    const plain = await runCli([png, '--out', join(dir, 'e.png'), '--model', 'depth-anything-v2-small', '--no-download'], { env });
    expect(plain.code).toBe(1);
    expect(errorLine(plain.stderr)).toContain(`model depth-anything-v2-small is not downloaded: run \`depth-video models pull depth-anything-v2-small\``);
  });
});

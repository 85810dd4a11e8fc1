import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { buildAnalyticModel } from '../../src/inference/generate/analytic.js';
import { decodeOnnxInfo, detectFamily, readOnnxInfo, validateDepthIO } from '../../src/models/onnx-info.js';
import { buildTinyModel } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dv-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(f: () => unknown): DepthVideoError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DepthVideoError);
    return e as DepthVideoError;
  }
  throw new Error('expected a throw');
}

describe('readOnnxInfo', () => {
  it('reads a generated model: inputs, outputs, opset, parameters, metadata', async () => {
    const file = join(dir, 'analytic-slow.onnx');
    writeFileSync(file, buildAnalyticModel({ slowOps: 1 }));
    const info = await readOnnxInfo(file);
    expect(info.inputs).toEqual([{ name: 'image', elemType: 'float32', dims: [1, 3, 'H', 'W'] }]);
    expect(info.outputs).toEqual([{ name: 'depth', elemType: 'float32', dims: [1, 'H', 'W'] }]);
    expect(info.opsets).toEqual([{ domain: 'ai.onnx', version: 17 }]);
    // Two 512x512 learned matrices; Constant-node scalars are not parameters.
    expect(info.parameterCount).toBe(2 * 512 * 512);
    expect(info.metadata['depth_video.family']).toBe('analytic');
    expect(() => validateDepthIO(info)).not.toThrow();
    const d = detectFamily(info);
    expect(d.source).toBe('metadata');
    expect(d.family).toBe('analytic');
    expect(d.spec.mean).toEqual([0, 0, 0]);
  });

  it('counts initializer elements and keeps symbolic dims', () => {
    const bytes = buildTinyModel({
      inputs: [{ name: 'x', dims: ['batch', 3, 'h', 'w'] }],
      outputs: [{ name: 'y', dims: ['batch', 1, 'h', 'w'] }],
      initializers: [{ name: 'a', dims: [3, 4] }, { name: 'b', dims: [5] }],
      opset: 11,
    });
    const info = decodeOnnxInfo(bytes, 'tiny.onnx');
    expect(info.parameterCount).toBe(17);
    expect(info.initializerCount).toBe(2);
    expect(info.inputs[0].dims).toEqual(['batch', 3, 'h', 'w']);
    expect(info.opsets[0].version).toBe(11);
    expect(() => validateDepthIO(info)).not.toThrow();
  });

  it('validateDepthIO rejects a two-input model', () => {
    const info = decodeOnnxInfo(
      buildTinyModel({ inputs: [{ name: 'a', dims: [1, 3, 8, 8] }, { name: 'b', dims: [1, 3, 8, 8] }], outputs: [{ name: 'y', dims: [1, 8, 8] }] }),
      'two.onnx',
    );
    const e = thrown(() => validateDepthIO(info));
    expect(e.code).toBe('MODEL_SHAPE');
    expect(e.message).toContain('two.onnx');
    expect(e.message).toContain('2 inputs');
    expect(e.message).toContain('[N,3,H,W]');
  });

  it('validateDepthIO rejects a [1,3,H,W] output', () => {
    const info = decodeOnnxInfo(
      buildTinyModel({ inputs: [{ name: 'x', dims: [1, 3, 'H', 'W'] }], outputs: [{ name: 'rgb', dims: [1, 3, 'H', 'W'] }] }),
      'rgb.onnx',
    );
    const e = thrown(() => validateDepthIO(info));
    expect(e.code).toBe('MODEL_SHAPE');
    expect(e.message).toContain('output rgb is [1,3,H,W]');
    expect(e.message).toContain('[N,H,W] or [N,1,H,W]');
  });

  it('validateDepthIO rejects a one-channel input', () => {
    const info = decodeOnnxInfo(buildTinyModel({ inputs: [{ name: 'x', dims: [1, 1, 8, 8] }], outputs: [{ name: 'y', dims: [1, 8, 8] }] }), 'g.onnx');
    expect(thrown(() => validateDepthIO(info)).message).toContain('input x is [1,1,8,8]');
  });

  it('a non-ONNX file is MODEL_INVALID, a missing one MODEL_MISSING', async () => {
    const file = join(dir, 'notes.onnx');
    writeFileSync(file, 'this is a text file, not a protobuf\n'.repeat(20));
    await expect(readOnnxInfo(file)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining(`${file} is not an ONNX model`) });
    await expect(readOnnxInfo(join(dir, 'absent.onnx'))).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });

  it('detectFamily: fixed H x W squashes to it; names and sizes pick the family', () => {
    const fixed = decodeOnnxInfo(buildTinyModel({ inputs: [{ name: 'x', dims: [1, 3, 256, 256] }], outputs: [{ name: 'y', dims: [1, 256, 256] }] }), 'model-small.onnx');
    const d = detectFamily(fixed, 'model-small.onnx');
    expect(d.family).toBe('midas-v21-small');
    expect(d.fixedSize).toEqual({ width: 256, height: 256 });
    expect([d.spec.width, d.spec.height, d.spec.keepAspect]).toEqual([256, 256, false]);

    const da = decodeOnnxInfo(buildTinyModel({ inputs: [{ name: 'x', dims: [1, 3, 518, 518] }], outputs: [{ name: 'y', dims: [1, 518, 518] }] }), 'x.onnx');
    const g = detectFamily(da, 'renamed.onnx');
    expect(g.family).toBe('depth-anything');
    expect(g.source).toBe('input-size');
    expect(g.warning).toContain('518x518');

    const dyn = decodeOnnxInfo(buildTinyModel({ inputs: [{ name: 'x', dims: [1, 3, 'h', 'w'] }], outputs: [{ name: 'y', dims: [1, 'h', 'w'] }] }), 'y.onnx');
    const swin = detectFamily(dyn, 'dpt_swin2_tiny_256.onnx');
    expect(swin.family).toBe('swin2-256');
    expect(swin.spec.keepAspect).toBe(false);
    const man = detectFamily(dyn, 'dpt-hybrid-384.onnx');
    expect(man.source).toBe('manifest');
    expect(man.spec.mean).toEqual([0.5, 0.5, 0.5]);
  });
});

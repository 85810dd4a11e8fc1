import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DPT_CONFIGS, type DptConfig } from '../../src/inference/generate/dpt/config.js';
import { buildDptGraph, buildDptModel } from '../../src/inference/generate/dpt/build.js';
import onnx from 'onnx-proto';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { writeModel } from '../../src/inference/generate/onnx-writer.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';

const dir = mkdtempSync(join(tmpdir(), 'dv-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** y = x * w + b with w, b given in memory or deferred; [1, n] in and out. */
function affine(n: number, deferred: boolean): GraphBuilder {
  const g = new GraphBuilder('affine');
  const x = g.input('x', [1, n]);
  const w = Float32Array.from({ length: n }, (_, i) => i - n / 2);
  const b = Float32Array.from({ length: n }, (_, i) => 1 / (i + 1));
  const wName = g.param('w', [n], deferred ? async () => w : w);
  const bName = g.param('b', [n], deferred ? async () => b : b);
  g.output(g.op('Add', [g.op('Mul', [x, wName]), bName]), 'y', [1, n]);
  return g;
}

async function run(model: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  try {
    const out = await s.run(feeds);
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('streaming ONNX writer', () => {
  const tiny: DptConfig = { ...DPT_CONFIGS['dpt-tiny'], name: 'writer-test', embedDim: 32, heads: 2, reassembleChannels: [8, 8, 16, 16], features: 8 };

  it('writes the model the in-memory encoder writes, through a temp file', async () => {
    const g = affine(300, true);
    const path = join(dir, 'affine.onnx');
    const written = await writeModel(g.parts(), path, { metadata: { k: 'v' }, docString: 'doc' });
    expect(written.dataPath).toBeNull();
    expect(written.parameterCount).toBe(600);
    expect(statSync(path).size).toBe(written.bytes);
    // Same message, fields in another order (initializers last): compare decoded.
    const inMemory = affine(300, false).toBytes({ metadata: { k: 'v' }, docString: 'doc' });
    expect(statSync(path).size).toBe(inMemory.length);
    expect(onnx.onnx.ModelProto.decode(readFileSync(path)).toJSON()).toEqual(onnx.onnx.ModelProto.decode(inMemory).toJSON());
    expect(readOnnxMetadata(path)).toEqual({ k: 'v' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a written DPT runs in onnxruntime and gives the in-memory model output', async () => {
    const built = buildDptModel(tiny, 3);
    const path = join(dir, 'dpt.onnx');
    const { g, options } = buildDptGraph(tiny, 3);
    await writeModel(g.parts(), path, options);
    expect(readOnnxMetadata(path)['depth_video.family']).toBe('dpt-generated');
    const input = new Float32Array(3 * 64 * 96).map((_, i) => Math.sin(i / 7));
    const feeds = { image: new ort.Tensor('float32', input, [1, 3, 64, 96]) };
    const a = await run(built.bytes, feeds);
    const b = await run(path, feeds);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('puts the values in <file>.data above the threshold, and onnxruntime loads them from the path', async () => {
    const path = join(dir, 'ext.onnx');
    const written = await writeModel(affine(5000, true).parts(), path, { externalDataAbove: 1000 });
    expect(written.dataPath).toBe(`${path}.data`);
    // Only the graph is in the model; 40 KB of values live beside it, page aligned.
    expect(statSync(path).size).toBeLessThan(2000);
    expect(statSync(`${path}.data`).size).toBe(4096 * 5 + 20000);
    const x = Float32Array.from({ length: 5000 }, (_, i) => (i % 7) - 3);
    const y = await run(path, { x: new ort.Tensor('float32', x, [1, 5000]) });
    const f = Math.fround;
    for (const i of [0, 1, 2499, 4999]) expect(y[i]).toBe(f(f(x[i] * (i - 2500)) + f(1 / (i + 1))));

    // Replacing it with an inline model removes the stale values file.
    await writeModel(affine(10, true).parts(), path);
    expect(existsSync(`${path}.data`)).toBe(false);
  });

  it('a failing read leaves no file and no temp file behind', async () => {
    const g = new GraphBuilder('bad');
    const x = g.input('x', [1, 4]);
    g.output(g.op('Mul', [x, g.param('w', [4], async () => { throw new Error('disk gone'); })]), 'y', [1, 4]);
    const path = join(dir, 'bad.onnx');
    await expect(writeModel(g.parts(), path)).rejects.toThrow(/disk gone/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.onnx'))).toEqual([]);
  });

  it('refuses deferred values of the wrong size', async () => {
    const g = new GraphBuilder('short');
    const x = g.input('x', [1, 4]);
    g.output(g.op('Mul', [x, g.param('w', [4], async () => new Float32Array(3))]), 'y', [1, 4]);
    await expect(writeModel(g.parts(), join(dir, 'short.onnx'))).rejects.toThrow(/need 4 values, got 3/);
    expect(() => g.toBytes()).toThrow(/writeModel/);
  });
});

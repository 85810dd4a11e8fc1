import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import onnx from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAnalyticModel } from '../../src/inference/generate/analytic.js';
import { buildDptGraph } from '../../src/inference/generate/dpt/build.js';
import { DPT_CONFIGS, type DptConfig } from '../../src/inference/generate/dpt/config.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';
import { writeModel } from '../../src/inference/generate/onnx-writer.js';
import { MAX_CONSTANT_BYTES } from '../../src/models/graph-normalization.js';
import { decodeOnnxInfo, readOnnxInfo } from '../../src/models/onnx-info.js';
import { readModelSkeleton } from '../../src/models/onnx-skeleton.js';
import { ROOT, tempDir } from '../helpers/media.js';
import { caught } from './helpers.js';
import { IMAGENET_MEAN, IMAGENET_STD, midasStyleModel } from './helpers.js';

const dir = tempDir('dv-skeleton-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Tensor = onnx.onnx.TensorProto;
const T = onnx.onnx.TensorProto.DataType;

/**
 * The reference for the skeleton: the whole file decoded, then every
 * tensor's values dropped where their encoding is longer than the kept size
 * (in the places a tensor can be: initializers, Constant attributes,
 * subgraphs).
 */
function withoutLargeValues(model: onnx.onnx.ModelProto): onnx.onnx.ModelProto {
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (v instanceof onnx.onnx.TensorProto) {
      const t = v as Tensor;
      // Deleted, not emptied: toJSON lists a bytes field that was set, even to nothing.
      if (t.rawData.length > MAX_CONSTANT_BYTES) delete (t as { rawData?: Uint8Array }).rawData;
      if (t.floatData.length * 4 > MAX_CONSTANT_BYTES) t.floatData = [];
      if (t.doubleData.length * 8 > MAX_CONSTANT_BYTES) t.doubleData = [];
    }
    if (v instanceof Uint8Array) return;
    for (const child of Object.values(v)) visit(child);
  };
  visit(model);
  return model;
}

function tensorProto(name: string, dims: number[], values: number[], packed: 'raw' | 'floats'): onnx.onnx.ITensorProto {
  const f = Float32Array.from(values);
  return packed === 'raw'
    ? { name, dims, dataType: T.FLOAT, rawData: new Uint8Array(f.buffer) }
    : { name, dims, dataType: T.FLOAT, floatData: values };
}

/**
 * Values in every place the skeleton must look: small and large initializers
 * (raw_data and float_data), a large Constant, an If whose branches hold
 * constants of their own, a small constant the normalisation reads.
 */
function everyPlaceModel(): Uint8Array {
  const big = Array.from({ length: 300 }, (_, i) => i / 7);
  const branch = (name: string, values: number[]): onnx.onnx.IGraphProto => ({
    name,
    node: [{ opType: 'Constant', output: [`${name}_out`], attribute: [{ name: 'value', type: onnx.onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto(`${name}_c`, [values.length], values, 'raw') }] }],
    output: [{ name: `${name}_out`, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: values.length }] } } } }],
  });
  const model: onnx.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'skeleton-test',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 17 }],
    metadataProps: [{ key: 'depth_video.family', value: 'depth-anything' }, { key: 'note', value: 'x'.repeat(500) }],
    graph: {
      name: 'every-place',
      node: [
        { opType: 'Sub', input: ['image', 'mean'], output: ['centred'] },
        { opType: 'Div', input: ['centred', 'std'], output: ['normalised'] },
        { opType: 'Constant', output: ['weights'], attribute: [{ name: 'value', type: onnx.onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto('w', [300], big, 'raw') }] },
        { opType: 'If', input: ['flag'], output: ['chosen'], attribute: [
          { name: 'then_branch', type: onnx.onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', big) },
          { name: 'else_branch', type: onnx.onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', [1, 2]) },
        ] },
        { opType: 'ReduceMean', input: ['normalised'], output: ['depth'], attribute: [{ name: 'axes', type: onnx.onnx.AttributeProto.AttributeType.INTS, ints: [1] }, { name: 'keepdims', type: onnx.onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      ],
      initializer: [
        tensorProto('mean', [1, 3, 1, 1], IMAGENET_MEAN, 'raw'),
        tensorProto('std', [1, 3, 1, 1], IMAGENET_STD, 'floats'),
        tensorProto('big_raw', [10, 30], big, 'raw'),
        tensorProto('big_floats', [300], big, 'floats'),
        { name: 'flag', dims: [], dataType: T.BOOL, int32Data: [1] },
      ],
      input: [{ name: 'image', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimParam: 'H' }, { dimParam: 'W' }] } } } }],
      output: [{ name: 'depth', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimParam: 'H' }, { dimParam: 'W' }] } } } }],
    },
  };
  return onnx.onnx.ModelProto.encode(model).finish();
}

const tinyDpt: DptConfig = { ...DPT_CONFIGS['dpt-tiny'], name: 'skeleton-test', embedDim: 32, heads: 2, reassembleChannels: [8, 8, 16, 16], features: 8 };

/** Every way the skeleton must agree with the whole file: the info, and the ModelProto less its large values. */
function expectSameAsWholeFile(path: string): { skeletonBytes: number; fileBytes: number } {
  const whole = readFileSync(path);
  const skeleton = readModelSkeleton(path, MAX_CONSTANT_BYTES);
  expect(skeleton.fileBytes).toBe(whole.length);
  expect(onnx.onnx.ModelProto.decode(skeleton.bytes).toJSON()).toEqual(withoutLargeValues(onnx.onnx.ModelProto.decode(whole)).toJSON());
  return { skeletonBytes: skeleton.bytes.length, fileBytes: whole.length };
}

describe('the model skeleton: an ONNX file read without its weights', () => {
  it('holds every field of the file but large tensor values, wherever tensors are, and gives the same info', async () => {
    const path = join(dir, 'every-place.onnx');
    writeFileSync(path, everyPlaceModel());
    const sizes = expectSameAsWholeFile(path);
    // Four 1200-byte tensors are left out; the small ones and the 500-byte metadata stay.
    expect(sizes.fileBytes - sizes.skeletonBytes).toBeGreaterThanOrEqual(4 * 1200);
    const info = await readOnnxInfo(path);
    expect(info).toEqual(decodeOnnxInfo(readFileSync(path), path));
    expect(info.fileBytes).toBe(sizes.fileBytes);
    expect(info.parameterCount).toBe(3 + 3 + 300 + 300 + 1);
    // The constants the normalisation needs were kept: one in raw_data, one in float_data.
    expect(info.inputNormalization?.ops).toEqual(['Sub', 'Div']);
    info.inputNormalization!.mean.forEach((m, i) => expect(m).toBeCloseTo(IMAGENET_MEAN[i]!, 6));
    info.inputNormalization!.std.forEach((s, i) => expect(s).toBeCloseTo(IMAGENET_STD[i]!, 6));
  });

  it('agrees with the whole file on generated models (analytic-slow, a DPT, MiDaS-style) and on external data', async () => {
    const files: string[] = [];
    const add = (name: string, bytes: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      files.push(p);
    };
    add('analytic-slow.onnx', buildAnalyticModel({ slowOps: 2 }));
    add('midas-style.onnx', midasStyleModel());
    const { g, options } = buildDptGraph(tinyDpt, 3);
    const dpt = join(dir, 'dpt.onnx');
    await writeModel(g.parts(), dpt, options);
    files.push(dpt);
    const ext = join(dir, 'external.onnx');
    const written = await writeModel(buildDptGraph(tinyDpt, 4).g.parts(), ext, { ...options, externalDataAbove: 1000 });
    expect(written.dataPath).toBe(`${ext}.data`);
    files.push(ext);
    for (const path of files) {
      expectSameAsWholeFile(path);
      expect(await readOnnxInfo(path), path).toEqual(decodeOnnxInfo(readFileSync(path), path));
    }
    expect((await readOnnxInfo(join(dir, 'midas-style.onnx'))).inputNormalization?.ops).toEqual(['Sub', 'Div']);
    const extInfo = await readOnnxInfo(ext);
    expect(extInfo.parameterCount).toBe(written.parameterCount);
    expect(extInfo.metadata).toEqual(readOnnxMetadata(ext));
  });

  it('a file cut inside a weight it would skip is still refused as not an ONNX model', async () => {
    const path = join(dir, 'cut.onnx');
    writeFileSync(path, buildAnalyticModel({ slowOps: 1 }));
    truncateSync(path, statSync(path).size - 1000);
    const e = await caught(readOnnxInfo(path));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not an ONNX model: field \\d+ at byte \\d+ runs past the end of its message; use a \\.onnx export`));
    expect(() => readOnnxMetadata(path)).toThrow(/not an ONNX model/);
  });
});

describe('models info on a 1 GiB model', () => {
  const LIB = pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href;
  /** `depth-video models info <file>` in a fresh process (the built dist/), with that process's peak RSS. */
  function infoInChild(path: string): { code: number; stdout: string; rss: number } {
    const script =
      `const { main } = await import(${JSON.stringify(LIB)});` +
      'let stdout = ""; const out = { write: (s) => { stdout += s; return true; } };' +
      'const code = await main(["models", "info", process.argv[1]], { stdout: out, stderr: process.stderr });' +
      'process.stdout.write(JSON.stringify({ code, stdout, rss: process.resourceUsage().maxRSS * 1024 }));';
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, path], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`models info failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { code: number; stdout: string; rss: number };
  }

  it('peak RSS stays within 64 MiB of the same command on a tiny model, far under the file size', async () => {
    // 256 initializers of 1 Mi floats, written one at a time by the streaming writer.
    const g = new GraphBuilder('large');
    const image = g.input('image', [1, 3, 'H', 'W']);
    for (let i = 0; i < 256; i++) g.param(`w${i}`, [1024, 1024], async () => new Float32Array(1024 * 1024).fill(i));
    g.output(g.op('ReduceMean', [image], { axes: [1], keepdims: 0 }), 'depth', [1, 'H', 'W']);
    const large = join(dir, 'large.onnx');
    await writeModel(g.parts(), large, { metadata: { 'depth_video.family': 'depth-anything' } });
    const size = statSync(large).size;
    expect(size).toBeGreaterThan(2 ** 30);

    const tiny = join(dir, 'tiny.onnx');
    const t = new GraphBuilder('tiny');
    const x = t.input('image', [1, 3, 'H', 'W']);
    t.param('w0', [4], new Float32Array(4));
    t.output(t.op('ReduceMean', [x], { axes: [1], keepdims: 0 }), 'depth', [1, 'H', 'W']);
    writeFileSync(tiny, t.toBytes({ metadata: { 'depth_video.family': 'depth-anything' } }));

    try {
      const base = infoInChild(tiny);
      const got = infoInChild(large);
      console.log(`models info peak RSS: ${(got.rss / 2 ** 20).toFixed(0)} MiB on the ${(size / 2 ** 30).toFixed(2)} GiB model, ${(base.rss / 2 ** 20).toFixed(0)} MiB on a tiny one`);
      expect(got.code).toBe(0);
      expect(got.stdout).toMatch(/parameters:\s+268,435,456 in 256 initializers/);
      expect(got.stdout).toMatch(/file:.*\(1\.07 GB\)/);
      expect(got.rss, 'peak RSS on the 1 GiB model').toBeLessThan(base.rss + 64 * 2 ** 20);
      expect(got.rss).toBeLessThan(size / 4);
    } finally {
      rmSync(large, { force: true });
    }
  }, 600_000);
});

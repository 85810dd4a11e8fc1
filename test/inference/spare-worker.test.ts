import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { opensModelSoon } from '../../src/cli/early-start.js';
import { analyticReference, ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { DepthSession } from '../../src/inference/session.js';
import { dropSpareInferenceWorker, prestartInferenceWorker, spareInferenceWorkerId } from '../../src/inference/spare-worker.js';
import { warmModel } from '../../src/inference/warm-model.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { mulberry32 } from '../../src/inference/generate/random.js';
import { ROOT, tempDir } from '../helpers/media.js';

function picture(width: number, height: number, seed: number) {
  const rng = mulberry32(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng() * 256)) };
}

describe('the spare inference worker (started before its model is known)', () => {
  it('a session opened while one waits takes it, and runs its model there as a fresh worker would', async () => {
    const path = await ensureGeneratedModel('analytic');
    prestartInferenceWorker();
    const id = spareInferenceWorkerId();
    expect(id).not.toBeNull();
    prestartInferenceWorker();
    expect(spareInferenceWorkerId(), 'a second call keeps the worker already waiting').toBe(id);
    const taken = await DepthSession.open(path, { device: 'cpu' });
    expect(spareInferenceWorkerId(), 'the session took the spare').toBeNull();
    const fresh = await DepthSession.open(path, { device: 'cpu' });
    try {
      const img = picture(37, 21, 5);
      // Preprocessed in the worker (the spec travels with the frame) and on this thread: the same network input.
      const reference = analyticReference(taken.prepare(img).tensor, 37, 21);
      for (const s of [taken, fresh]) {
        const r = await s.infer(img);
        expect([r.depth.width, r.depth.height]).toEqual([37, 21]);
        expect(Array.from(r.depth.data)).toEqual(Array.from(reference));
      }
    } finally {
      await taken.close();
      await fresh.close();
    }
  });

  it('a run that fails before its model loads leaves no spare thread behind', async () => {
    await dropSpareInferenceWorker();
    const missing = join(tempDir('dv-spare-'), 'missing.mp4');
    await expect(runPipeline({ input: { kind: 'file', path: missing }, output: null, model: 'analytic', sync: true, allowDownload: false, render: {
      colormap: 'turbo', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 5,
    } })).rejects.toThrow(/missing\.mp4/);
    expect(spareInferenceWorkerId()).toBeNull();
  });

  it('the model that warms onnxruntime up is y = Identity(x) as GraphBuilder writes it', () => {
    const g = new GraphBuilder('warm');
    const x = g.input('x', [1]);
    g.output(g.op('Identity', [x], undefined, 'y0'), 'y', [1]);
    expect(Buffer.from(warmModel()).equals(Buffer.from(g.toBytes({})))).toBe(true);
  });

  it('the command line starts one for runs that open a model, not for help, listings or sub-commands without a model', () => {
    expect(opensModelSoon(['in.mp4', '--out', 'depth.mp4'])).toBe(true);
    expect(opensModelSoon(['--webcam'])).toBe(true);
    expect(opensModelSoon(['demo'])).toBe(true);
    expect(opensModelSoon(['batch', 'videos/', '--out-dir', 'depth/'])).toBe(true);
    expect(opensModelSoon([])).toBe(false);
    expect(opensModelSoon(['--help'])).toBe(false);
    expect(opensModelSoon(['in.mp4', '-h'])).toBe(false);
    expect(opensModelSoon(['--version'])).toBe(false);
    expect(opensModelSoon(['--list-webcams'])).toBe(false);
    expect(opensModelSoon(['models', 'list'])).toBe(false);
    expect(opensModelSoon(['replay', 'rec/'])).toBe(false);
    expect(opensModelSoon(['queue', 'status'])).toBe(false);
    expect(opensModelSoon(['enqueue', 'a.mp4'])).toBe(false);
  });
});

describe('a spare is never ended while onnxruntime loads (that aborts the process)', () => {
  it('dropping it waits until it is warm', async () => {
    await dropSpareInferenceWorker();
    process.env.DEPTH_VIDEO_TEST_WARM_DELAY_MS = '400';
    try {
      prestartInferenceWorker();
      const t0 = performance.now();
      await dropSpareInferenceWorker();
      expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
      expect(spareInferenceWorkerId()).toBeNull();
    } finally {
      delete process.env.DEPTH_VIDEO_TEST_WARM_DELAY_MS;
    }
  });

  it('a program that ends with an unused spare waits for it to be warm, then ends by itself, cleanly', () => {
    const dist = pathToFileURL(join(ROOT, 'dist', 'inference', 'spare-worker.js')).href;
    const script = `const m = await import(${JSON.stringify(dist)}); m.prestartInferenceWorker(); console.log(m.spareInferenceWorkerId() !== null);`;
    const t0 = performance.now();
    // A file, not -e: a worker inherits --input-type, which only -e takes.
    const file = join(tempDir('dv-spare-'), 'spare.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, VITEST: 'true', DEPTH_VIDEO_TEST_WARM_DELAY_MS: '600' } });
    const ms = performance.now() - t0;
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('true');
    expect(ms).toBeGreaterThanOrEqual(600);
    expect(ms).toBeLessThan(10_000);
  });
});

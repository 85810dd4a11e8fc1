import { describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import type { ModelDescription } from '../../src/inference/session.js';
import { encodePngRgb8, PhotoDepth, type PhotoModel } from '../../src/preview/photo.js';
import { webgpu, webgpuStatus } from '../helpers/webgpu.js';
import { startCli, stop } from './helpers.js';

/** A 40x20 left-to-right gradient. */
function photo(): Promise<Buffer> {
  const w = 40;
  const h = 20;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill((i % w) * 6, i * 3, i * 3 + 3);
  return encodePngRgb8({ width: w, height: h, data });
}

async function postPhoto(url: string): Promise<{ status: number; body: { device?: string; error?: string; width?: number; untrained?: boolean } }> {
  const r = await fetch(`${url}api/photo?colormap=gray`, { method: 'POST', body: await photo(), headers: { 'content-type': 'application/octet-stream' } });
  return { status: r.status, body: (await r.json()) as { device?: string; error?: string; width?: number } };
}

describe('photo mode runs on the device the run chose', () => {
  it('--photo-ui --device coreml: the photo is refused for that device, not quietly run on the CPU', async () => {
    await ensureGeneratedModel('analytic');
    const run = await startCli(['--photo-ui', '--model', 'analytic', '--device', 'coreml']);
    try {
      const r = await postPhoto(run.url);
      expect(r.status).toBe(422);
      expect(r.body.error).toMatch(/^--device coreml: the coreml execution provider is not available in this onnxruntime-node/);
    } finally {
      await stop(run.proc);
    }
  });

  it('--photo-ui --device cpu says where the photo ran', async () => {
    const run = await startCli(['--photo-ui', '--model', 'analytic', '--device', 'cpu']);
    try {
      const r = await postPhoto(run.url);
      expect(r.status, r.body.error).toBe(200);
      expect(r.body.device).toBe('cpu');
      // analytic is a generated model: the answer says so, and the page marks the files it saves.
      expect(r.body.untrained).toBe(true);
      expect(r.body.width).toBe(40);
    } finally {
      await stop(run.proc);
    }
  });

  webgpu.it(`a live run with --device webgpu infers photos on WebGPU too (${webgpuStatus})`, async () => {
    const run = await startCli(['--webcam', 'lavfi:testsrc2=size=160x90:rate=5', '--model', 'analytic', '--device', 'webgpu']);
    try {
      const r = await postPhoto(run.url);
      expect(r.status, r.body.error).toBe(200);
      expect(r.body.device).toMatch(/^webgpu \(/);
      expect(run.stderr()).toMatch(/device: webgpu \(/);
    } finally {
      await stop(run.proc);
    }
  }, 120_000);

  it('during a live run a photo sent while the model loads waits for the run\'s model, and loads no second one', async () => {
    // A model name that cannot load: a photo that opened a session of its own would fail.
    const photos = new PhotoDepth({ model: 'no-such-model', allowDownload: false, device: 'webgpu', awaitRun: true });
    const settings = { colormap: 'gray', invert: false, highContrast: false } as const;
    let served = 0;
    const runModel: PhotoModel = {
      infer: async (img) => {
        served++;
        const data = new Float32Array(img.width * img.height).map((_, i) => i % img.width);
        return { depth: { width: img.width, height: img.height, data }, preprocessMs: 0, inferenceMs: 1 };
      },
      model: { spec: { outputInterpolation: 'bilinear', outputAlignCorners: false }, output: 'relative-inverse-depth', deviceLabel: 'webgpu (the run\'s)' } as unknown as ModelDescription,
    };
    const early = photos.process(await photo(), settings);
    expect(photos.inProgress).toBe(1);
    photos.share(runModel);
    const r = await early;
    expect(served).toBe(1);
    expect(r.device).toBe('webgpu (the run\'s)');
    expect([r.width, r.height]).toEqual([40, 20]);

    // A run that ends before its model loads: the waiting photo gets one line, not a hang.
    const other = new PhotoDepth({ model: 'no-such-model', allowDownload: false, awaitRun: true });
    const waiting = other.process(await photo(), settings);
    other.share(null);
    await expect(waiting).rejects.toThrow('the live run ended before its model was loaded');
    // And after the run: no model of its own either.
    await expect(photos.process(await photo(), settings)).resolves.toMatchObject({ device: 'webgpu (the run\'s)' });
    photos.share(null);
    await expect(photos.process(await photo(), settings)).rejects.toThrow('the live run has ended');
    await photos.close();
    await other.close();
  });
});


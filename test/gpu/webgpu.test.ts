import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { analyticSpec } from '../../src/inference/generate/analytic.js';
import { runPipeline, type PipelineOptions } from '../../src/pipeline/run.js';
import type { RunSummary } from '../../src/pipeline/run.js';
import { decodeVideo, errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';
import { webgpu, webgpuProbe, webgpuStatus } from '../helpers/webgpu.js';

/**
 * Real runs on WebGPU. CI installs lavapipe (Mesa's software Vulkan), where
 * dpt-tiny takes seconds a frame at 384 px and the first run compiles every
 * shader (15-20 s here), so the clips and sizes are tiny.
 */
const SLOW = 300_000;

/** An untrained test graph with an operator the WebGPU provider lacks (MeanVarianceNormalization, checked in onnxruntime 1.30). */
function mvnModel(path: string): string {
  const g = new GraphBuilder('mvn-test');
  const image = g.input('image', [1, 3, 'H', 'W']);
  const gray = g.op('ReduceMean', [image], { axes: [1], keepdims: 1 }, 'gray');
  const mvn = g.op('MeanVarianceNormalization', [gray], undefined, 'mvn');
  // The output shape [1, H, W] is computed from the input's shape: int64
  // Shape/Gather arithmetic that onnxruntime places on the CPU on purpose
  // and that must not be reported.
  const hw = g.op('Gather', [g.op('Shape', [image]), g.constI64([0, 2, 3], 'hw_index')], { axis: 0 }, 'out_shape');
  g.output(g.op('Reshape', [g.op('Relu', [mvn]), hw]), 'depth', [1, 'H', 'W']);
  writeFileSync(path, g.toBytes({
    metadata: { 'depth_video.family': 'analytic', 'depth_video.untrained': 'true', 'depth_video.spec': JSON.stringify(analyticSpec()) },
  }));
  return path;
}

webgpu.describe(`--device webgpu (${webgpuStatus})`, () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    expect(webgpuProbe.ok, `CI must have a WebGPU adapter (lavapipe): ${webgpuStatus}`).toBe(true);
    dir = tempDir('dv-gpu-');
    clip = makeClip(join(dir, 'in.mp4'), 'testsrc2=size=160x90:rate=10:duration=0.6');
  });

  it('dpt-tiny on WebGPU: exit 0, the input\'s frames and timestamps, pixels within one grey level of the CPU run', async () => {
    // Measured on lavapipe: dpt-tiny's raw predictions on WebGPU and on the
    // CPU provider differ by at most 6e-6 (1.1e-6 of the prediction's
    // range). Normalised to 0..1 and rounded to 256 grey levels (--colormap
    // gray, so a pixel is its colour-table index), such a difference moves a
    // pixel by one level only where its value sits within ~3e-4 of a level
    // boundary: |diff| <= 1 everywhere, on far fewer than 1% of the pixels
    // (0.02% measured). A wrong resize, layout or normalisation on the GPU
    // path would move most pixels by many levels. FFV1 keeps both exact.
    const common = [clip, '--size', '128', '--sync', '--lossless', '--colormap', 'gray', '--json'];
    const gpuOut = join(dir, 'gpu.mkv');
    const cpuOut = join(dir, 'cpu.mkv');
    const gpu = await runCli([...common, '--out', gpuOut, '--device', 'webgpu'], { timeoutMs: SLOW - 20_000 });
    expect(gpu.code, gpu.stderr).toBe(0);
    const summary = JSON.parse(gpu.stdout) as RunSummary;
    expect(summary.device).toMatchObject({ requested: 'webgpu', name: 'webgpu' });
    expect(gpu.stderr).toContain(`device: ${summary.device.label}\n`);
    if (summary.device.adapter?.software) {
      expect(gpu.stderr.split('\n').filter((l) => l.startsWith('warning: --device webgpu: the adapter is ') && l.endsWith('a software renderer running on the CPU, expect it to be slower than --device cpu'))).toHaveLength(1);
    }
    // Every float node of the default model runs on the GPU (its head's
    // normalisation is spelled out in ops WebGPU has): nothing to report.
    expect(summary.device.cpuFallback).toEqual([]);
    expect(gpu.stderr).not.toContain('has no kernel for');

    const cpu = await runCli([...common, '--out', cpuOut, '--device', 'cpu']);
    expect(cpu.code, cpu.stderr).toBe(0);
    expect((JSON.parse(cpu.stdout) as RunSummary).device).toMatchObject({ requested: 'cpu', name: 'cpu', adapter: null, cpuFallback: null });

    const input = decodeVideo(clip);
    const g = decodeVideo(gpuOut, { pixels: true });
    const c = decodeVideo(cpuOut, { pixels: true });
    expect(input.pts.length).toBe(6);
    expect(g.frames.length).toBe(6);
    expect(g.pts).toEqual(input.pts);
    expect(c.pts).toEqual(input.pts);
    let worst = 0;
    let differing = 0;
    let total = 0;
    for (let k = 0; k < g.frames.length; k++) {
      const a = g.frames[k]!;
      const b = c.frames[k]!;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i]! - b[i]!);
        if (d) differing++;
        if (d > worst) worst = d;
      }
      total += a.length;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(differing / total).toBeLessThan(0.01);
  }, SLOW);

  it('a node WebGPU has no kernel for runs on the CPU: reported once, by op and node, with the right result', async () => {
    const model = mvnModel(join(dir, 'mvn.onnx'));
    const still = makeClip(join(dir, 'three.mkv'), "nullsrc=s=40x30:r=5:d=0.6,geq=r='X*6':g='Y*8':b='128'", { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
    const run = async (device: 'webgpu' | 'cpu') => {
      const warnings: string[] = [];
      const units: Float32Array[] = [];
      const opts: PipelineOptions = {
        input: { kind: 'file', path: still }, output: null, model, sync: true, device, allowDownload: false,
        render: { colormap: 'gray', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 1 },
        hooks: { onWarning: (l) => warnings.push(l), onFrame: (o) => { if (o.inferred) units.push(o.depth.unit.slice()); } },
      };
      return { summary: await runPipeline(opts), warnings, units };
    };
    const gpu = await run('webgpu');
    expect(gpu.summary.frames.inferred).toBe(3);
    expect(gpu.warnings.filter((w) => w.includes('no kernel'))).toEqual([
      'webgpu has no kernel for 1 node, which onnxruntime runs on the CPU, copying its data across every frame: MeanVarianceNormalization (n_mvn)',
    ]);
    expect(gpu.summary.device.cpuFallback).toEqual([{ op: 'MeanVarianceNormalization', node: 'n_mvn' }]);
    const cpu = await run('cpu');
    expect(cpu.warnings).toEqual([]);
    expect(gpu.units).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      let worst = 0;
      for (let i = 0; i < cpu.units[k]!.length; i++) worst = Math.max(worst, Math.abs(gpu.units[k]![i]! - cpu.units[k]![i]!));
      expect(worst, `frame ${k}`).toBeLessThan(1e-4);
    }
  }, SLOW);

  describe('the GPU lost mid-run', () => {
    let clip12: string;
    beforeAll(() => {
      clip12 = makeClip(join(dir, 'twelve.mp4'), 'testsrc2=size=96x64:rate=10:duration=1.2');
    });

    for (const [seam, what] of [['5', 'inference failed (WebGPU device lost (simulated by DEPTH_VIDEO_TEST_GPU_LOSS))'], ['5:exit', 'the inference worker stopped (exit 1)']] as const) {
      it(`${seam.endsWith('exit') ? 'worker crash' : 'device lost'}: one clear line, exit 1, and the 5 frames before it finished and playable`, async () => {
        const out = join(dir, `lost-${seam.replace(':', '-')}.mp4`);
        const r = await runCli([clip12, '--out', out, '--model', 'analytic', '--sync', '--device', 'webgpu'], { env: { DEPTH_VIDEO_TEST_GPU_LOSS: seam }, timeoutMs: SLOW - 20_000 });
        expect(r.code, r.stderr).toBe(1);
        expect(errorLine(r.stderr)).toMatch(new RegExp(`^depth-video: webgpu \\(.+\\): ${what.replace(/[()]/g, '\\$&')} after 5 frames: `
          + `the GPU was lost or ran out of memory; check its driver, or rerun with --device cpu; the 5 frames before it are in ${out.replace(/[.]/g, '\\.')}$`));
        const input = decodeVideo(clip12);
        const output = decodeVideo(out);
        expect(output.pts).toEqual(input.pts.slice(0, 5));
      }, SLOW);
    }

    it('outside the tests the seam does nothing', async () => {
      const out = join(dir, 'not-lost.mp4');
      const r = await runCli([clip12, '--out', out, '--model', 'analytic', '--sync', '--device', 'webgpu', '-q'], { env: { DEPTH_VIDEO_TEST_GPU_LOSS: '5', VITEST: '' }, timeoutMs: SLOW - 20_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(decodeVideo(out).pts.length).toBe(12);
    }, SLOW);
  });
});

describe('--device auto, the default', () => {
  it('prints the chosen device in one line and in --json; on the CPU, one warning says why', async () => {
    const dir = tempDir('dv-auto-');
    const clip = makeClip(join(dir, 'in.mp4'), 'testsrc2=size=64x48:rate=5:duration=0.4');
    const r = await runCli([clip, '--out', join(dir, 'out.mp4'), '--model', 'analytic', '--sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.device.requested).toBe('auto');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('device: '))).toEqual([`device: ${s.device.label}`]);
    const why = r.stderr.split('\n').filter((l) => l.startsWith('warning: --device auto: '));
    if (s.device.name === 'cpu') {
      expect(why).toHaveLength(1);
      expect(why[0]).toMatch(/^warning: --device auto: no GPU found \(.+\), running on the CPU/);
      expect(s.warnings).toContain(why[0]!.slice('warning: '.length));
    } else expect(why).toEqual([]);
  });
});

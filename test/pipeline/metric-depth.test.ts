import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticModel } from '../../src/inference/generate/analytic.js';
import { metadataField } from '../../src/inference/generate/graph.js';
import { decodeVideo, makeClip, runCli, tempDir } from '../helpers/media.js';

/**
 * The analytic model outputs the mean of the normalised channels: black
 * gives its smallest value, white its largest. Marked as metric depth
 * (metres, larger = farther), the black half is the near one and must be
 * shown bright, as relative inverse depth shows its larger (near) values.
 */
const W = 64;
const H = 32;

/** Mean gray level of the left and right halves (gray colormap: R = G = B). */
function halves(frame: Buffer): { left: number; right: number } {
  let left = 0;
  let right = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = frame[3 * (y * W + x)]!;
      if (x < W / 2) left += v;
      else right += v;
    }
  }
  const n = (W / 2) * H;
  return { left: left / n, right: right / n };
}

describe('metric depth models', () => {
  let dir: string;
  let clip: string;
  let metric: string;
  let relative: string;
  beforeAll(() => {
    dir = tempDir('dv-metric-');
    // Left half black, right half white, lossless.
    clip = makeClip(join(dir, 'halves.mkv'), `color=c=black:s=${W}x${H}:r=5:d=0.6,drawbox=x=${W / 2}:y=0:w=${W / 2}:h=${H}:c=white:t=fill`, { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
    const model = buildAnalyticModel();
    relative = join(dir, 'relative.onnx');
    writeFileSync(relative, model);
    metric = join(dir, 'metric.onnx');
    // Appending a metadata entry is how a converter-made model says what its output is.
    writeFileSync(metric, Buffer.concat([model, metadataField('depth_video.output', 'metric-depth')]));
  });

  async function render(model: string, name: string, extra: string[] = []): Promise<{ left: number; right: number }[]> {
    const out = join(dir, `${name}.mkv`);
    const r = await runCli([clip, '--out', out, '--model', model, '--colormap', 'gray', '--lossless', '--stabilize', 'off', '--sync', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    const { frames } = decodeVideo(out, { pixels: true });
    expect(frames).toHaveLength(3);
    return frames.map(halves);
  }

  it('show near (fewer metres) as bright by default, and far as bright with --invert', async () => {
    // Rendered on the main thread and on frame workers alike.
    for (const workers of ['0', '2']) {
      for (const f of await render(metric, `metric-w${workers}`, ['--workers', workers])) expect(f).toEqual({ left: 255, right: 0 });
    }
    for (const f of await render(metric, 'metric-inverted', ['--invert'])) expect(f).toEqual({ left: 0, right: 255 });
    // The same graph as relative inverse depth: larger = nearer, so the white half is the bright one.
    for (const f of await render(relative, 'relative')) expect(f).toEqual({ left: 0, right: 255 });
  });

  it('a float32 recording of a metric model replays with near bright too', async () => {
    const rec = join(dir, 'rec');
    await render(metric, 'recorded', ['--record', rec, '--record-format', 'float32']);
    const out = join(dir, 'replay.mkv');
    const r = await runCli(['replay', rec, '--out', out, '--colormap', 'gray']);
    expect(r.code, r.stderr).toBe(0);
    const { frames } = decodeVideo(out, { pixels: true });
    expect(frames).toHaveLength(3);
    // H.264 blurs the edge and the levels a little; the halves stay apart.
    for (const f of frames.map(halves)) {
      expect(f.left).toBeGreaterThan(220);
      expect(f.right).toBeLessThan(35);
    }
  });
});

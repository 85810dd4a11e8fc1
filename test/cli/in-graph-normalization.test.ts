import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/sinks/recorder/index.js';
import { decodeVideo, makeClip, runCli, tempDir, type CliResult } from '../helpers/media.js';
import { IMAGENET_MEAN, IMAGENET_STD, midasStyleModel, midasStyleValue } from '../models/helpers.js';

/**
 * The official MiDaS v2.1 ONNX files normalise inside the graph. A graph built
 * the same way, under the official file name (whose family, midas-v21-small,
 * normalises with ImageNet mean/std), must still get plain RGB/255.
 */
describe('a MiDaS v2.1 style graph with in-graph normalisation, through the CLI', () => {
  let dir: string;
  let model: string;
  let rgb: [number, number, number];
  let run: CliResult;

  beforeAll(async () => {
    dir = tempDir('dv-ingraph-');
    model = join(dir, 'model-small.onnx');
    writeFileSync(model, midasStyleModel());
    const png = makeClip(join(dir, 'solid.png'), 'color=c=0xC87828:s=48x36:d=1', { codec: ['-frames:v', '1'] });
    const px = decodeVideo(png, { pixels: true }).frames[0];
    rgb = [px[0], px[1], px[2]];
    // A solid picture stays solid through bicubic resizing, so every pixel is predictable.
    for (let i = 0; i < px.length; i += 3) expect([px[i], px[i + 1], px[i + 2]]).toEqual(rgb);
    run = await runCli([png, '--out', join(dir, 'd.png'), '--model', model, '--record', join(dir, 'rec'), '--record-format', 'float32', '-q']);
  });

  it('records the depth the formula predicts for RGB/255 fed to the graph, not for a twice-normalised input', () => {
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(join(dir, 'rec', 'raw'));
    expect(files).toHaveLength(1);
    const depth = readNpy(join(dir, 'rec', 'raw', files[0])).data;
    expect(depth.length).toBe(48 * 36);
    const want = midasStyleValue(rgb);
    const twice = rgb.reduce((s, v, c) => s + ((v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c] - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 0) / 3;
    expect(Math.abs(want - twice)).toBeGreaterThan(0.5);
    let worst = 0;
    for (const v of depth) worst = Math.max(worst, Math.abs(v - want));
    expect(worst).toBeLessThan(1e-4);
  });

  it('models info says the normalisation is in the graph and how frames are fed', async () => {
    const r = await runCli(['models', 'info', model]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/input:\s+0\s+float32\s+\[1, 3, 256, 256\]/);
    expect(r.stdout).toContain('normalisation: in the graph (mean 0.485,0.456,0.406 / std 0.229,0.224,0.225, Sub then Div) — frames are fed as RGB/255');
    expect(r.stdout).toMatch(/mean \[0, 0, 0\] std \[1, 1, 1\]/);
  });
});

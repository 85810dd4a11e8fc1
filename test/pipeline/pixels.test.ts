import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { decodeVideo, errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';
import { getColormap } from '../../src/render/colormap.js';
import type { ColormapName } from '../../src/types.js';

/**
 * The analytic model's output is the float32 mean of the three normalised
 * channels (mean 0, std 1, so v/255), computed in this order. Frames are fed
 * at their own size, so with --stabilize off every output pixel is
 * LUT[round(255 * (d - min) / (max - min))] of that frame — exactly, because
 * the input and output are lossless (FFV1).
 */
function expectedFrame(rgb: Buffer, colormap: ColormapName, invert: boolean): Uint8Array {
  const f = Math.fround;
  const n = rgb.length / 3;
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c0 = f(rgb[3 * i]! / 255);
    const c1 = f(rgb[3 * i + 1]! / 255);
    const c2 = f(rgb[3 * i + 2]! / 255);
    d[i] = f(f(f(c0 + c1) + c2) / 3);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const lut = getColormap(colormap);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let t = hi > lo ? f((d[i]! - lo) * (1 / (hi - lo))) : 0;
    t = Math.min(1, Math.max(0, t));
    if (invert) t = 1 - t;
    const k = Math.round(t * 255);
    out[3 * i] = lut[3 * k]!;
    out[3 * i + 1] = lut[3 * k + 1]!;
    out[3 * i + 2] = lut[3 * k + 2]!;
  }
  return out;
}

function mismatches(a: Uint8Array, b: Uint8Array): number {
  let bad = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad++;
  return bad;
}

describe('output pixels with the analytic model', () => {
  let dir: string;
  let gradient: string;
  let solid: string;
  beforeAll(() => {
    dir = tempDir();
    // Odd size on purpose: FFV1 takes it as it is. The pattern moves with N so frames differ.
    gradient = makeClip(join(dir, 'gradient.mkv'), "nullsrc=s=63x47:r=10:d=1,geq=r='X*4':g='Y*5':b='mod(X+Y+N*16,256)'",
      { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
    solid = makeClip(join(dir, 'solid.mkv'), 'color=c=0x3366cc:s=32x24:r=5:d=1', { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
  });

  for (const [colormap, invert] of [['inferno', false], ['turbo', true], ['gray', false]] as const) {
    it(`matches LUT[normalised mean] for every pixel of every frame (${colormap}${invert ? ', inverted' : ''})`, async () => {
      const out = join(dir, `out-${colormap}.mkv`);
      const r = await runCli([gradient, '--out', out, '--model', 'analytic', '--sync', '--lossless', '--stabilize', 'off',
        '--colormap', colormap, ...(invert ? ['--invert'] : []), '-q']);
      expect(r.code, r.stderr).toBe(0);
      const input = decodeVideo(gradient, { pixels: true });
      const output = decodeVideo(out, { pixels: true });
      expect(output.width).toBe(63);
      expect(output.height).toBe(47);
      expect(output.frames.length).toBe(input.frames.length);
      expect(input.frames.length).toBe(10);
      for (let k = 0; k < input.frames.length; k++) {
        expect(mismatches(output.frames[k]!, expectedFrame(input.frames[k]!, colormap, invert)), `frame ${k}`).toBe(0);
      }
    });
  }

  it('a solid colour frame has no depth range and maps to the bottom of the table', async () => {
    const out = join(dir, 'solid-out.mkv');
    const r = await runCli([solid, '--out', out, '--model', 'analytic', '--sync', '--lossless', '--stabilize', 'off', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const output = decodeVideo(out, { pixels: true });
    const lut = getColormap('inferno');
    expect(output.frames.length).toBe(5);
    for (const f of output.frames) {
      expect([f[0], f[1], f[2]]).toEqual([lut[0], lut[1], lut[2]]);
      expect(mismatches(f.subarray(3), Buffer.alloc(f.length - 3, 0).map((_, i) => f[i % 3]!))).toBe(0);
    }
  });

  it('side-by-side puts the input on the left and the depth on the right', async () => {
    const out = join(dir, 'sbs.mkv');
    const r = await runCli([gradient, '--out', out, '--model', 'analytic', '--sync', '--lossless', '--stabilize', 'off', '--layout', 'side-by-side', '--max-frames', '2', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const input = decodeVideo(gradient, { pixels: true });
    const output = decodeVideo(out, { pixels: true });
    expect([output.width, output.height]).toEqual([126, 47]);
    expect(output.frames.length).toBe(2);
    const exp = expectedFrame(input.frames[1]!, 'inferno', false);
    const o = output.frames[1]!;
    let bad = 0;
    for (let y = 0; y < 47; y++) {
      for (let x = 0; x < 63; x++) {
        for (let c = 0; c < 3; c++) {
          if (o[(y * 126 + x) * 3 + c] !== input.frames[1]![(y * 63 + x) * 3 + c]) bad++;
          if (o[(y * 126 + 63 + x) * 3 + c] !== exp[(y * 63 + x) * 3 + c]) bad++;
        }
      }
    }
    expect(bad).toBe(0);
  });

  it('an image goes through the same path: photo.png -> depth.png', async () => {
    const png = join(dir, 'still.png');
    makeClip(png, "nullsrc=s=40x30:d=1,geq=r='X*6':g='Y*8':b='128'", { codec: ['-frames:v', '1'] });
    const out = join(dir, 'still-depth.png');
    const r = await runCli([png, '--out', out, '--model', 'analytic', '-q']);
    expect(r.code, r.stderr + errorLine(r.stderr)).toBe(0);
    const input = decodeVideo(png, { pixels: true });
    const output = decodeVideo(out, { pixels: true });
    expect([output.width, output.height]).toEqual([40, 30]);
    // Stills default to --stabilize off, so the per-image min/max applies.
    expect(mismatches(output.frames[0]!, expectedFrame(input.frames[0]!, 'inferno', false))).toBe(0);
  });
});

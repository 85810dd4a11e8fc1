import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/inference/generate/random.js';
import { sampleFlicker } from '../../src/render/flicker-meter.js';
import { composesInYuv, renderPixels, type PixelSettings, type PixelTargets } from '../../src/render/frame-pixels.js';
import { getColormap } from '../../src/render/colormap.js';
import { colormapToYuv420p, yuv420pSize } from '../../src/render/yuv.js';
import { frameAsRgb } from '../../src/render/yuv-to-rgb.js';
import type { FrameImage, LayoutName, Yuv420pImage, YuvColour } from '../../src/types.js';

const W = 34;
const H = 22;
const rand = mulberry32(3);
const yuvFrame = (colour: YuvColour): Yuv420pImage => ({ format: 'yuv420p', colour, width: W, height: H, data: new Uint8Array(yuv420pSize(W, H)).map(() => 16 + Math.floor(rand() * 220)) });
const unit = new Float32Array(W * H).map(() => rand());
const settings = (layout: LayoutName): PixelSettings => ({ colormap: 'turbo', invert: false, highContrast: false, layout, interpolation: 'bilinear', alignCorners: false, evenOutput: true });

/** A repeat frame's render (the depth given as its unit picture) of `frame` into the targets asked for. */
function render(frame: FrameImage, layout: LayoutName, want: { rgb: boolean; yuv: boolean }): { rgb: Uint8Array | null; yuv: Uint8Array | null } {
  const size = layout === 'side-by-side' ? { w: 2 * W, h: H } : layout === 'stacked' ? { w: W, h: 2 * H } : { w: W, h: H };
  const t: PixelTargets = {
    unit, raw: null, depthRgb: null, flickerUnit: null, flickerRgb: null,
    rgb: want.rgb ? new Uint8Array(size.w * size.h * 3) : null,
    yuv: want.yuv ? new Uint8Array(yuv420pSize(size.w, size.h)) : null,
  };
  renderPixels({ settings: settings(layout), width: W, height: H, depth: null, frame, flickerStep: 0 }, t);
  return { rgb: t.rgb, yuv: t.yuv };
}

describe('renderPixels with yuv420p input frames', () => {
  const bt601: YuvColour = { matrix: 'bt601', range: 'limited' };

  it('side-by-side and stacked copy the input planes as decoded beside the depth coloured into yuv420p', () => {
    const frame = yuvFrame(bt601);
    const depth = colormapToYuv420p(unit, W, H, getColormap('turbo'), false, W, H);
    const [yIn, uIn, vIn] = planes(frame.data, W, H);
    const [yD, uD, vD] = planes(depth, W, H);
    expect(composesInYuv(frame, 'side-by-side', { rgb: false, yuv: true })).toBe(true);

    const sbs = render(frame, 'side-by-side', { rgb: false, yuv: true }).yuv!;
    const [yS, uS, vS] = planes(sbs, 2 * W, H);
    for (const [out, a, b, pw, ph] of [[yS, yIn, yD, W, H], [uS, uIn, uD, W / 2, H / 2], [vS, vIn, vD, W / 2, H / 2]] as const) {
      for (let y = 0; y < ph; y++) {
        expect([...out.subarray(2 * y * pw, 2 * y * pw + pw)]).toEqual([...a.subarray(y * pw, (y + 1) * pw)]);
        expect([...out.subarray(2 * y * pw + pw, 2 * (y + 1) * pw)]).toEqual([...b.subarray(y * pw, (y + 1) * pw)]);
      }
    }

    const st = render(frame, 'stacked', { rgb: false, yuv: true }).yuv!;
    const [yT, uT, vT] = planes(st, W, 2 * H);
    expect([...yT]).toEqual([...yIn, ...yD]);
    expect([...uT]).toEqual([...uIn, ...uD]);
    expect([...vT]).toEqual([...vIn, ...vD]);
  });

  // Input that is not in the output's colour, or an RGB picture wanted: the
  // input is composed as the RGB frame ffmpeg would have decoded, so the
  // result is that of the RGB frame, byte for byte.
  const rgbCases: [string, YuvColour, { rgb: boolean; yuv: boolean }][] = [
    ['BT.709 input, yuv420p output', { matrix: 'bt709', range: 'limited' }, { rgb: false, yuv: true }],
    ['full-range input, yuv420p output', { matrix: 'bt601', range: 'full' }, { rgb: false, yuv: true }],
    ['BT.601 input, RGB and yuv420p outputs', bt601, { rgb: true, yuv: true }],
  ];
  for (const [name, colour, want] of rgbCases) {
    it(`${name}: the same pictures as from its RGB frame`, () => {
      const frame = yuvFrame(colour);
      const rgb = frameAsRgb(frame, { buffer: new Uint8Array(0) });
      expect(composesInYuv(frame, 'side-by-side', want)).toBe(false);
      for (const layout of ['side-by-side', 'stacked'] as const) {
        const a = render(frame, layout, want);
        const b = render({ ...rgb, data: rgb.data.slice() }, layout, want);
        expect(Buffer.from(a.yuv!).equals(Buffer.from(b.yuv!)), `${layout} yuv`).toBe(true);
        if (want.rgb) expect(Buffer.from(a.rgb!).equals(Buffer.from(b.rgb!)), `${layout} rgb`).toBe(true);
      }
    });
  }

  it("the flicker meter samples a yuv420p frame as ffmpeg's RGB of it", () => {
    for (const colour of [bt601, { matrix: 'bt709', range: 'limited' }, { matrix: 'bt601', range: 'full' }] as const) {
      const frame = yuvFrame(colour);
      const rgb = frameAsRgb(frame, { buffer: new Uint8Array(0) });
      const n = Math.ceil(W / 3) * Math.ceil(H / 3);
      const a = { unit: new Float32Array(n), rgb: new Uint8Array(4 * n) };
      const b = { unit: new Float32Array(n), rgb: new Uint8Array(4 * n) };
      sampleFlicker(frame, unit, 3, a.unit, a.rgb);
      sampleFlicker(rgb, unit, 3, b.unit, b.rgb);
      expect([...a.rgb]).toEqual([...b.rgb]);
      expect([...a.unit]).toEqual([...b.unit]);
    }
  });
});

function planes(data: Uint8Array, w: number, h: number): [Uint8Array, Uint8Array, Uint8Array] {
  const n = w * h;
  const c = (w / 2) * (h / 2);
  return [data.subarray(0, n), data.subarray(n, n + c), data.subarray(n + c, n + 2 * c)];
}

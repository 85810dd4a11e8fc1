import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { frameAsRgb, yuv420pToRgb, yuvCoefficients, yuvPixelToRgb } from '../../src/render/yuv-to-rgb.js';
import type { Yuv420pImage, YuvColour } from '../../src/types.js';
import { FFMPEG, makeClip, tempDir } from '../helpers/media.js';

const W = 322; // not a multiple of 8 or 16: the vector code's tail is covered too
const H = 182;

/** ffmpeg's own decode of frame 0 in `pixFmt`. */
function decode(path: string, pixFmt: string): Uint8Array {
  return new Uint8Array(execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'], { maxBuffer: 1 << 24 }));
}

describe('yuv420p frames to RGB, as ffmpeg converts them', () => {
  let dir: string;
  beforeAll(() => { dir = tempDir(); });

  // How a stream is tagged, how it is decoded without conversion, and what that means.
  const cases: { name: string; codec: string[]; native: string; colour: YuvColour }[] = [
    { name: 'untagged (BT.601, limited)', codec: ['-pix_fmt', 'yuv420p'], native: 'yuv420p', colour: { matrix: 'bt601', range: 'limited' } },
    { name: 'BT.709 limited', codec: ['-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'], native: 'yuv420p', colour: { matrix: 'bt709', range: 'limited' } },
    { name: 'smpte170m limited', codec: ['-pix_fmt', 'yuv420p', '-colorspace', 'smpte170m'], native: 'yuv420p', colour: { matrix: 'bt601', range: 'limited' } },
    { name: 'full range (yuvj420p)', codec: ['-pix_fmt', 'yuvj420p'], native: 'yuvj420p', colour: { matrix: 'bt601', range: 'full' } },
  ];

  for (const c of cases) {
    it(`${c.name}: every byte equals ffmpeg's rgb24`, () => {
      // Saturated colour bars and a luma ramp push samples past 0 and 255 before clamping.
      const clip = makeClip(join(dir, `${c.native}-${c.colour.matrix}-${c.colour.range}.mkv`), `testsrc2=size=${W}x${H}:rate=5,format=yuv444p`, {
        codec: ['-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', ...c.codec],
      });
      const img: Yuv420pImage = { format: 'yuv420p', colour: c.colour, width: W, height: H, data: decode(clip, c.native) };
      const want = decode(clip, 'rgb24');
      const got = yuv420pToRgb(img).data;
      expect(got.length).toBe(want.length);
      let differ = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) differ++;
      expect(differ).toBe(0);
      // The single-pixel form (the flicker meter's) agrees with the whole-picture one.
      const px = new Uint8Array(3);
      const k = yuvCoefficients(c.colour);
      for (const [x, y] of [[0, 0], [1, 1], [W - 1, H - 1], [161, 90], [37, 5]] as const) {
        yuvPixelToRgb(img, k, x, y, px, 0);
        expect([...px]).toEqual([...want.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)]);
      }
    });
  }

  it('the formula at known points: black, white and the BT.601 primaries in limited range', () => {
    const colour: YuvColour = { matrix: 'bt601', range: 'limited' };
    const one = (y: number, u: number, v: number) => {
      const img: Yuv420pImage = { format: 'yuv420p', colour, width: 2, height: 2, data: Uint8Array.from([y, y, y, y, u, v]) };
      return [...yuv420pToRgb(img).data.subarray(0, 3)];
    };
    expect(one(16, 128, 128)).toEqual([0, 0, 0]);
    expect(one(235, 128, 128)).toEqual([255, 255, 255]);
    // Rec. 601 red (255, 0, 0) is stored as Y 81, Cb 90, Cr 240 (81.5 rounded down); swscale's
    // truncating fixed point gives R = (520 * 9539 >> 16) + (896 * 13075 >> 16) = 75 + 178.
    expect(one(81, 90, 240)).toEqual([253, 0, 0]);
  });

  it('frameAsRgb passes RGB frames through and converts yuv420p into a reused buffer', () => {
    const scratch = { buffer: new Uint8Array(0) };
    const rgb = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(frameAsRgb(rgb, scratch)).toBe(rgb);
    const yuv: Yuv420pImage = { format: 'yuv420p', colour: { matrix: 'bt601', range: 'full' }, width: 2, height: 2, data: Uint8Array.from([10, 20, 30, 40, 128, 128]) };
    const a = frameAsRgb(yuv, scratch);
    expect([...a.data]).toEqual([10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);
    const buffer = scratch.buffer;
    frameAsRgb(yuv, scratch);
    expect(scratch.buffer).toBe(buffer);
  });
});

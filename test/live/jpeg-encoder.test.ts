import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { JpegEncoder } from '../../src/preview/jpeg-encoder.js';
import { yuv420pToRgb } from '../../src/render/yuv-to-rgb.js';
import type { FrameImage, Yuv420pImage, YuvColour } from '../../src/types.js';
import { FFMPEG } from '../helpers/media.js';

const W = 64;
const H = 48;

/** One JPEG of `picture`, decoded back to RGB by ffmpeg. */
async function roundTrip(picture: FrameImage): Promise<Uint8Array> {
  const jpeg = await new Promise<Buffer>((resolve) => {
    const enc = new JpegEncoder<number>((j) => { enc.close(); resolve(j); }, { quality: 2 });
    expect(enc.encode(picture, 0)).toBe(true);
  });
  return new Uint8Array(execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: jpeg }));
}

/** Flat blocks of strongly coloured Y'CbCr (no edges inside a block, so JPEG keeps them). */
function blocks(colour: YuvColour): Yuv420pImage {
  const data = new Uint8Array(W * H * 1.5);
  const cw = W / 2;
  const samples = [[81, 90, 240], [145, 54, 34], [41, 240, 110], [170, 166, 16]];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [l, u, v] = samples[(x >> 4) % 4]!;
      data[y * W + x] = l!;
      if (!(x & 1) && !(y & 1)) {
        data[W * H + (y >> 1) * cw + (x >> 1)] = u!;
        data[W * H * 1.25 + (y >> 1) * cw + (x >> 1)] = v!;
      }
    }
  }
  return { format: 'yuv420p', colour, width: W, height: H, data };
}

describe('the preview JPEG encoder', () => {
  // The page shows JPEGs as browsers decode them (BT.601, full range): a
  // yuv420p frame in another matrix or range must come out as its RGB does.
  for (const colour of [{ matrix: 'bt601', range: 'limited' }, { matrix: 'bt709', range: 'limited' }, { matrix: 'bt601', range: 'full' }] as const) {
    it(`takes yuv420p frames (${colour.matrix}, ${colour.range}) and shows the colours their RGB has`, async () => {
      const yuv = blocks(colour);
      const rgb = yuv420pToRgb(yuv);
      const [fromYuv, fromRgb] = [await roundTrip(yuv), await roundTrip(rgb)];
      // Block centres: away from JPEG's 8x8 edges and chroma bleeding.
      for (let b = 0; b < 4; b++) {
        const i = (24 * W + b * 16 + 8) * 3;
        for (let c = 0; c < 3; c++) {
          expect(Math.abs(fromYuv[i + c]! - rgb.data[i + c]!), `block ${b} channel ${c}`).toBeLessThanOrEqual(3);
          expect(Math.abs(fromRgb[i + c]! - rgb.data[i + c]!), `block ${b} channel ${c} (RGB input)`).toBeLessThanOrEqual(3);
        }
      }
    });
  }
});

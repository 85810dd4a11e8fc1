import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jpegOrientation, type Orientation } from '../../src/ffmpeg/exif-orientation.js';
import { probeMedia } from '../../src/ffmpeg/probe.js';
import { decodeImage } from '../../src/preview/photo.js';
import { decodeVideo, ffmpeg, runCli, tempDir } from '../helpers/media.js';

/** An APP1 segment holding one IFD0 entry, the orientation (SHORT), in either byte order. */
function exifSegment(orientation: number, littleEndian: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const u16 = (v: number, at: number) => (littleEndian ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (littleEndian ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(littleEndian ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(1, 8); // one entry
  u16(0x0112, 10);
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(orientation, 18); // the value, left-justified in the 4-byte field
  u32(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The JPEG with an EXIF segment right after its start-of-image marker. */
const withExif = (jpeg: Buffer, orientation: number, littleEndian = false) =>
  Buffer.concat([jpeg.subarray(0, 2), exifSegment(orientation, littleEndian), jpeg.subarray(2)]);

// The stored picture: 64x32, black, a white 16x8 block in its top-left corner.
const W = 64;
const H = 32;
const inBlock = (x: number, y: number) => x < 16 && y < 8;

/** Where a displayed pixel (u, v) comes from in the stored picture, by the EXIF definition of each orientation. */
function storedOf(o: Orientation, u: number, v: number): [number, number] {
  switch (o) {
    case 1: return [u, v];
    case 2: return [W - 1 - u, v];
    case 3: return [W - 1 - u, H - 1 - v];
    case 4: return [u, H - 1 - v];
    case 5: return [v, u];
    case 6: return [v, H - 1 - u];
    case 7: return [W - 1 - v, H - 1 - u];
    case 8: return [W - 1 - v, u];
  }
}

/** Checks an upright picture (grey levels, one byte per pixel at `stride`) against the stored one turned by `o`. */
function expectUpright(o: Orientation, width: number, height: number, grey: (u: number, v: number) => number): void {
  expect([width, height], `orientation ${o}: size`).toEqual(o >= 5 ? [H, W] : [W, H]);
  let wrong = 0;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const [x, y] = storedOf(o, u, v);
      // Two pixels either side of the block's edges may ring in JPEG.
      if (Math.abs(x - 16) < 2 || Math.abs(y - 8) < 2) continue;
      if ((grey(u, v) > 128) !== inBlock(x, y)) wrong++;
    }
  }
  expect(wrong, `orientation ${o}: pixels on the wrong side`).toBe(0);
}

describe('EXIF orientation of JPEG stills', () => {
  let dir: string;
  let jpeg: Buffer;
  beforeAll(() => {
    dir = tempDir('dv-exif-');
    const plain = join(dir, 'plain.jpg');
    ffmpeg(['-f', 'lavfi', '-i', `color=black:s=${W}x${H},drawbox=x=0:y=0:w=16:h=8:color=white:t=fill`, '-frames:v', '1', '-q:v', '1', '-pix_fmt', 'yuvj444p', plain]);
    jpeg = readFileSync(plain);
  });

  it('reads the tag in either byte order; no tag, a bad value, a cut segment or another format read as upright', () => {
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
      expect(jpegOrientation(withExif(jpeg, o, false))).toBe(o);
      expect(jpegOrientation(withExif(jpeg, o, true))).toBe(o);
    }
    expect(jpegOrientation(jpeg)).toBe(1);
    expect(jpegOrientation(withExif(jpeg, 9))).toBe(1);
    expect(jpegOrientation(withExif(jpeg, 6).subarray(0, 20))).toBe(1);
    expect(jpegOrientation(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))).toBe(1);
    expect(jpegOrientation(new Uint8Array(0))).toBe(1);
  });

  it('photo mode decodes every orientation upright', async () => {
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
      const img = await decodeImage(withExif(jpeg, o));
      expectUpright(o, img.width, img.height, (u, v) => img.data[3 * (v * img.width + u)]!);
    }
  });

  it('a file input: the probe gives the upright size and the depth of the upright picture comes out (analytic model: depth = brightness)', async () => {
    for (const o of [3, 6, 8] as const) {
      const input = join(dir, `turned-${o}.jpg`);
      writeFileSync(input, withExif(jpeg, o));
      const media = await probeMedia(input);
      expect(media.orientation).toBe(o);
      expect([media.video.width, media.video.height]).toEqual(o >= 5 ? [H, W] : [W, H]);
      const out = join(dir, `depth-${o}.png`);
      const r = await runCli([input, '--out', out, '--model', 'analytic', '--colormap', 'gray', '-q']);
      expect(r.code, r.stderr).toBe(0);
      const d = decodeVideo(out, { pixels: true });
      expectUpright(o, d.width, d.height, (u, v) => d.frames[0]![3 * (v * d.width + u)]!);
    }
  });
});

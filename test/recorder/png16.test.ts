import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, decodePng16, encodePng16 } from '../../src/sinks/recorder/index.js';
import { ffmpeg, ffmpegGray16, rng, tempDir } from './helpers.js';

function randomImage(width: number, height: number, seed: number): Uint16Array {
  const r = rng(seed);
  const d = new Uint16Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = Math.floor(r() * 65536);
  d[0] = 0;
  d[d.length - 1] = 65535;
  return d;
}

/** A PNG built by hand with the given per-row filter types, to exercise every unfilter path. */
function pngWithFilters(width: number, height: number, data: Uint16Array, filterFor: (y: number) => number): Buffer {
  const stride = width * 2;
  const px = Buffer.alloc(stride * height);
  for (let i = 0; i < data.length; i++) px.writeUInt16BE(data[i], i * 2);
  const rows = Buffer.alloc((stride + 1) * height);
  const paeth = (a: number, b: number, c: number): number => {
    const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  for (let y = 0; y < height; y++) {
    const t = filterFor(y);
    rows[y * (stride + 1)] = t;
    for (let x = 0; x < stride; x++) {
      const cur = px[y * stride + x];
      const a = x >= 2 ? px[y * stride + x - 2] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= 2 && y > 0 ? px[(y - 1) * stride + x - 2] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][t];
      rows[y * (stride + 1) + 1 + x] = (cur - pred) & 0xff;
    }
  }
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(head.subarray(4), body), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16;
  const idat = deflateSync(rows);
  // Split IDAT in two: decoders must concatenate them.
  const half = idat.length >> 1;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', idat.subarray(0, half)), chunk('IDAT', idat.subarray(half)), chunk('IEND', Buffer.alloc(0))]);
}

describe('png16', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips 16-bit values exactly through its own decoder', async () => {
    const data = randomImage(37, 23, 7);
    const png = await encodePng16(37, 23, data);
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect(png[24]).toBe(16); // bit depth
    expect(png[25]).toBe(0); // grayscale
    const img = decodePng16(png);
    expect([img.width, img.height, img.bitDepth]).toEqual([37, 23, 16]);
    expect(Array.from(img.data)).toEqual(Array.from(data));
  });

  it('is decoded by ffmpeg to the same gray16 values', async () => {
    const dir = tempDir('png');
    const data = randomImage(33, 17, 11);
    const file = join(dir, 'x.png');
    writeFileSync(file, await encodePng16(33, 17, data));
    const [frame] = ffmpegGray16(file, 33, 17);
    expect(Array.from(frame)).toEqual(Array.from(data));
  });

  it('unfilters all five filter types (hand-built, split IDAT)', () => {
    const data = randomImage(9, 10, 3);
    const img = decodePng16(pngWithFilters(9, 10, data, (y) => y % 5));
    expect(Array.from(img.data)).toEqual(Array.from(data));
  });

  it('loads PNGs written by ffmpeg (mixed predictors, 16 and 8 bit)', () => {
    const dir = tempDir('pngff');
    const data = randomImage(21, 13, 5);
    const raw = Buffer.alloc(data.length * 2);
    data.forEach((v, i) => raw.writeUInt16LE(v, i * 2));
    const f16 = join(dir, 'f16.png');
    const f8 = join(dir, 'f8.png');
    const run = (pix: string, out: string): void => {
      const r = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray16le', '-s', '21x13', '-i', '-',
        '-pix_fmt', pix, '-pred', 'mixed', '-frames:v', '1', '-y', out], { input: raw });
      expect(r.status, r.stderr.toString()).toBe(0);
    };
    run('gray16be', f16);
    run('gray', f8);
    expect(Array.from(decodePng16(readFileSync(f16)).data)).toEqual(Array.from(data));
    const eight = decodePng16(readFileSync(f8));
    expect(eight.bitDepth).toBe(8);
    // 8-bit is widened by 257, so each value is within one 8-bit step of the original.
    for (let i = 0; i < data.length; i++) expect(Math.abs(eight.data[i] - data[i])).toBeLessThanOrEqual(257);
    expect(eight.data[eight.data.length - 1]).toBe(65535);
  });

  it('rejects a corrupted chunk', async () => {
    const png = await encodePng16(4, 4, randomImage(4, 4, 1));
    png[40] ^= 0xff; // inside IDAT
    expect(() => decodePng16(png)).toThrow(/CRC|truncated/);
  });
});

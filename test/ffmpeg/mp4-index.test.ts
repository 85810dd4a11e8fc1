import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mp4VideoFrameCount, type ReadAt } from '../../src/ffmpeg/mp4-index.js';
import { probeMedia } from '../../src/ffmpeg/probe.js';
import { makeClip, tempDir } from '../helpers/media.js';

function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const size = 8 + payload.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  let at = 8;
  for (const p of payload) { out.set(p, at); at += p.length; }
  return out;
}

const u32 = (...values: number[]) => {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(b.buffer).setUint32(i * 4, v));
  return b;
};
const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const hdlr = (kind: string) => box('hdlr', u32(0, 0), ascii(kind), u32(0, 0, 0));
const trak = (kind: string, samples: number) =>
  box('trak', box('mdia', box('mdhd', u32(0, 0, 0, 1000, 0)), hdlr(kind), box('minf', box('stbl', box('stts', u32(0, 0)), box('stsz', u32(0, 0, samples))))));

function reader(file: Uint8Array): ReadAt {
  return async (pos, len) => file.subarray(pos, Math.min(file.length, pos + len));
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

describe('the frame count of an MP4 from its sample table', () => {
  it('takes the video track, not the audio one listed first, with moov after mdat', async () => {
    const file = concat(box('ftyp', ascii('isom'), u32(512)), box('mdat', new Uint8Array(1000)), box('moov', box('mvhd', u32(0, 0, 0, 1000, 0)), trak('soun', 189), trak('vide', 120)));
    expect(await mp4VideoFrameCount(reader(file), file.length)).toBe(120);
  });

  it('no video track, a fragmented file (no samples in moov) or a cut file give null', async () => {
    const audioOnly = concat(box('ftyp', ascii('isom')), box('moov', trak('soun', 189)));
    expect(await mp4VideoFrameCount(reader(audioOnly), audioOnly.length)).toBeNull();
    const fragmented = concat(box('ftyp', ascii('isom')), box('moov', trak('vide', 0)), box('moof', new Uint8Array(16)));
    expect(await mp4VideoFrameCount(reader(fragmented), fragmented.length)).toBeNull();
    const whole = concat(box('ftyp', ascii('isom')), box('moov', trak('vide', 120)));
    expect(await mp4VideoFrameCount(reader(whole.subarray(0, whole.length - 10)), whole.length - 10)).toBeNull();
  });

  it('probe: a 4 s 30 fps clip whose AAC track ends at 4.02 s expects 120 frames, not 121', async () => {
    const dir = tempDir();
    const clip = makeClip(join(dir, 'demo-like.mp4'), 'testsrc2=size=64x48:rate=30:duration=4', { audio: true, seconds: 4 });
    const m = await probeMedia(clip);
    expect(m.duration).toBeCloseTo(4.02, 2);
    expect(m.expectedFrames).toBe(120);
  });
});

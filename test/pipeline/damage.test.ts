import { describe, expect, it } from 'vitest';
import { damageText } from '../../src/pipeline/damage.js';
import { isDamage, parseLogLine } from '../../src/sources/ffmpeg-source.js';

const damaged = (line: string) => isDamage(parseLogLine(line));

describe('which ffmpeg log lines are damage', () => {
  it('splits component, level and text', () => {
    expect(parseLogLine('[h264 @ 0x4218f080] [error] cabac decode of qscale diff failed at 7 4'))
      .toEqual({ component: 'h264', level: 'error', text: 'cabac decode of qscale diff failed at 7 4' });
    expect(parseLogLine('[matroska,webm @ 0x302cdd00] [error] Read error')).toEqual({ component: 'matroska,webm', level: 'error', text: 'Read error' });
    expect(parseLogLine("[info] Input #0, mpegts, from 'corrupt.ts':")).toEqual({ component: null, level: 'info', text: "Input #0, mpegts, from 'corrupt.ts':" });
  });

  it('decoder and demuxer errors are damage; the banner is not, whatever the file is called', () => {
    expect(damaged('[h264 @ 0x4218f080] [error] cabac decode of qscale diff failed at 7 4')).toBe(true);
    expect(damaged('[matroska,webm @ 0x302cdd00] [error] Read error')).toBe(true);
    expect(damaged('[error] Error while decoding stream #0:0: Invalid data found when processing input')).toBe(true);
    expect(damaged("[info] Input #0, mpegts, from '/tmp/corrupt-truncated.ts':")).toBe(false);
    expect(damaged("[info]   Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native)) corrupt")).toBe(false);
  });

  it('warnings count only when they describe broken data', () => {
    expect(damaged('[mpegts @ 0x4207dd00] [warning] PES packet size mismatch')).toBe(true);
    expect(damaged('[mjpeg @ 0x3f301840] [warning] EOI missing, emulating')).toBe(true);
    // Every JPEG (yuvj420p) gets this one.
    expect(damaged('[swscaler @ 0x35436700] [warning] deprecated pixel format used, make sure you did set range correctly')).toBe(false);
    expect(damaged('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] [warning] stream 0, timescale not set')).toBe(false);
  });

  it('our own pipe closing is not damage in the input', () => {
    expect(damaged('[error] av_interleaved_write_frame(): Broken pipe')).toBe(false);
    expect(damaged('[error] Error writing trailer of pipe:1: Broken pipe')).toBe(false);
  });
});

describe('damageText', () => {
  const kept = { count: 97, firstPts: 1.4, lastPts: 5.36 };
  it("quotes the first error in ffmpeg's words, says where, and what was kept, past the damage included", () => {
    const text = damageText('corrupt.ts', [
      { text: 'PES packet size mismatch', error: false, after: 3.36 },
      { text: 'cbp too large (62) at 2 4', error: true, after: 3.36 },
      { text: 'error while decoding MB 6 0', error: true, after: 3.44 },
    ], kept, { expected: 100, live: false });
    expect(text).toBe('corrupt.ts is damaged or truncated: ffmpeg reported "cbp too large (62) at 2 4" after 1.96 s (3 reports in all, the last after 2.04 s); '
      + 'kept 97 frames up to 3.96 s of about 100; decoding went on past the damage, so frames near it may show artefacts');
  });

  it('a file cut short: nothing is claimed past the damage', () => {
    expect(damageText('cut.mkv', [{ text: 'Read error', error: true, after: 1.88 }], { count: 50, firstPts: 0, lastPts: 1.96 }, { expected: 100, live: false }))
      .toBe('cut.mkv is damaged or truncated: ffmpeg reported "Read error" after 1.88 s; kept 50 frames up to 1.96 s of about 100');
  });

  it('damage before the first frame, and a camera that went away', () => {
    expect(damageText('a.ts', [{ text: 'non-existing PPS 0 referenced', error: true, after: null }], { count: 10, firstPts: 1.4, lastPts: 1.76 }, { expected: null, live: false }))
      .toBe('a.ts is damaged or truncated: ffmpeg reported "non-existing PPS 0 referenced" before the first frame; kept 10 frames up to 0.36 s');
    expect(damageText('camera /dev/video0', [{ text: 'camera /dev/video0 stopped delivering frames after 30 (unplugged or taken by another program)', error: true, after: 1 }],
      { count: 30, firstPts: 0, lastPts: 1 }, { expected: null, live: true }))
      .toBe('camera /dev/video0 stopped delivering frames after 30 (unplugged or taken by another program); kept 30 frames');
  });
});

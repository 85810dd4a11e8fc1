import { describe, expect, it } from 'vitest';
import { parseProbe } from '../../src/ffmpeg/probe.js';

const VIDEO = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':
  Duration: 00:00:02.02, start: 0.000000, bitrate: 389 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 307 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
At least one output file must be specified`;

describe('parseProbe', () => {
  it('reads size, rate, duration, audio codec and the frame estimate', () => {
    const m = parseProbe('in.mp4', VIDEO);
    expect(m.video).toEqual({ codec: 'h264', width: 320, height: 240, fps: 29.97 });
    expect(m.duration).toBeCloseTo(2.02, 6);
    expect(m.audio).toEqual({ codec: 'aac' });
    expect(m.still).toBe(false);
    expect(m.expectedFrames).toBe(61);
  });

  it('an image is a still with one frame', () => {
    const m = parseProbe('p.png', `Input #0, png_pipe, from 'p.png':\n  Duration: N/A, bitrate: N/A\n    Stream #0:0: Video: png, rgb24(pc), 40x30, 25 tbr, 25 tbn, 25 tbc`);
    expect(m.still).toBe(true);
    expect(m.expectedFrames).toBe(1);
    expect(m.audio).toBeNull();
  });

  it('audio-only input and garbage are one-line errors naming the file', () => {
    expect(() => parseProbe('a.mp3', `Input #0, mp3, from 'a.mp3':\n    Stream #0:0: Audio: mp3, 44100 Hz`)).toThrow(/a\.mp3: it has no video stream/);
    expect(() => parseProbe('x.bin', 'x.bin: Invalid data found when processing input')).toThrow(/x\.bin: not a video or image/);
  });
});

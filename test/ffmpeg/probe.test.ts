import { describe, expect, it } from 'vitest';
import { parseProbe } from '../../src/ffmpeg/probe.js';
import { nativeYuv } from '../../src/sources/file-source.js';

const VIDEO = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':
  Duration: 00:00:02.02, start: 0.000000, bitrate: 389 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 307 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
At least one output file must be specified`;

describe('parseProbe', () => {
  it('reads size, rate, duration, audio codec and the frame estimate', () => {
    const m = parseProbe('in.mp4', VIDEO);
    expect(m.video).toEqual({ codec: 'h264', width: 320, height: 240, fps: 29.97, pixelFormat: 'yuv420p', colourSpace: null, colourRange: null });
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

/** A probe of one video stream line (after "Video: "), as ffmpeg 4 prints it. */
const stream = (line: string, path = 'v.mp4') => parseProbe(path, `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '${path}':\n  Duration: 00:00:01.00, start: 0.000000, bitrate: 1 kb/s\n    Stream #0:0(und): Video: ${line}\n`);

describe('pixel format and colour tags, and which videos stay yuv420p', () => {
  it('reads the format, the matrix (first of matrix/primaries/transfer) and the range', () => {
    expect(stream('h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1920x1080 [SAR 1:1 DAR 16:9], 30 fps, 30 tbr, 15360 tbn, 60 tbc').video)
      .toMatchObject({ pixelFormat: 'yuv420p', colourSpace: 'bt709', colourRange: 'tv' });
    expect(stream('h264 (High), yuv420p(tv, smpte170m/bt709/bt709, progressive), 640x360, 25 fps').video)
      .toMatchObject({ pixelFormat: 'yuv420p', colourSpace: 'smpte170m', colourRange: 'tv' });
    expect(stream('h264 (High), yuvj420p(pc), 320x240, 30 fps').video).toMatchObject({ pixelFormat: 'yuvj420p', colourSpace: null, colourRange: 'pc' });
    expect(stream('h264 (High), yuv420p(unknown/bt709/bt709), 320x240, 30 fps').video).toMatchObject({ colourSpace: null });
    expect(stream('hevc (Main 10), yuv420p10le(tv, bt2020nc/bt2020/smpte2084), 3840x2160, 24 fps').video)
      .toMatchObject({ pixelFormat: 'yuv420p10le', colourSpace: 'bt2020nc', colourRange: 'tv' });
    expect(stream('rawvideo (RGB[24] / 0x18424752), rgb24, 32x24, 25 fps').video).toMatchObject({ pixelFormat: 'rgb24', colourSpace: null, colourRange: null });
  });

  it('nativeYuv: 8-bit 4:2:0 in BT.601 or BT.709, even-sized, not a still; everything else is converted by ffmpeg', () => {
    const yuv = (line: string, path?: string) => nativeYuv(stream(line, path));
    expect(yuv('h264, yuv420p, 320x240, 30 fps')).toEqual({ matrix: 'bt601', range: 'limited' });
    expect(yuv('h264, yuv420p(tv, bt709), 1920x1080, 30 fps')).toEqual({ matrix: 'bt709', range: 'limited' });
    expect(yuv('h264, yuv420p(tv, bt470bg), 720x576, 25 fps')).toEqual({ matrix: 'bt601', range: 'limited' });
    expect(yuv('h264, yuvj420p(pc, bt470bg/unknown/unknown), 640x480, 30 fps')).toEqual({ matrix: 'bt601', range: 'full' });
    expect(yuv('h264, yuv420p(pc), 320x240, 30 fps')).toBeNull(); // full range without the j: left to ffmpeg
    expect(yuv('h264, yuv420p, 321x240, 30 fps')).toBeNull();
    expect(yuv('h264, yuv420p, 320x241, 30 fps')).toBeNull();
    expect(yuv('h264, yuv422p, 320x240, 30 fps')).toBeNull();
    expect(yuv('hevc, yuv420p10le(tv, bt709), 320x240, 30 fps')).toBeNull();
    expect(yuv('hevc, yuv420p(tv, bt2020nc/bt2020/smpte2084), 320x240, 30 fps')).toBeNull();
    expect(nativeYuv(parseProbe('p.jpg', `Input #0, jpeg_pipe, from 'p.jpg':\n  Duration: N/A, bitrate: N/A\n    Stream #0:0: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 40x30, 25 tbr`))).toBeNull();
  });
});

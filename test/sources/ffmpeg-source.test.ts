import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { probeMedia } from '../../src/ffmpeg/probe.js';
import { ffmpegSource } from '../../src/sources/ffmpeg-source.js';
import { fileSource, nativeYuv } from '../../src/sources/file-source.js';
import { FFMPEG, makeClip, tempDir } from '../helpers/media.js';
import type { VideoFrame } from '../../src/types.js';

const settle = () => new Promise((r) => setTimeout(r, 400));

// Both ways of reading ffmpeg's output (raw-frames.ts): the FIFO thread, and the pipe kept for Windows.
describe.each(['fifo', 'pipe'])('ffmpegSource frames in flight (%s reader)', (kind) => {
  it('never has more than maxInFlight alive, and limitInFlight lowers and lifts the cap while running', async () => {
    const saved = process.env.DEPTH_VIDEO_PIPE_READER;
    if (kind === 'pipe') process.env.DEPTH_VIDEO_PIPE_READER = '1';
    else delete process.env.DEPTH_VIDEO_PIPE_READER;
    const src = ffmpegSource({ inputArgs: ['-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=30'], label: 'lavfi', maxInFlight: 8 });
    const held: VideoFrame[] = [];
    const sub = src.frames$.subscribe((f) => held.push(f));
    const released = new Set<number>();
    const alive = () => held.filter((f) => !released.has(f.index)).length;
    const release = (n: number) => {
      for (const f of held.filter((g) => !released.has(g.index)).slice(0, n)) { released.add(f.index); f.release(); }
    };
    try {
      await settle();
      expect(held.length).toBe(8);
      src.limitInFlight!(3);
      release(4); // 4 alive: still over the cap of 3
      await settle();
      expect(held.length).toBe(8);
      release(2); // 2 alive: one more may come
      await settle();
      expect(held.length).toBe(9);
      expect(alive()).toBe(3);
      src.limitInFlight!(null); // back to 8
      await settle();
      expect(held.length).toBe(14);
      expect(held.map((f) => f.index)).toEqual([...Array(14).keys()]);
    } finally {
      sub.unsubscribe();
      if (saved === undefined) delete process.env.DEPTH_VIDEO_PIPE_READER;
      else process.env.DEPTH_VIDEO_PIPE_READER = saved;
    }
  });
});

describe('fileSource keeping yuv420p', () => {
  const dir = tempDir();
  for (const [pixFmt, colour] of [['yuv420p', { matrix: 'bt601', range: 'limited' }], ['yuvj420p', { matrix: 'bt601', range: 'full' }]] as const) {
    it(`${pixFmt}: the frames are the decoder's own planes, unconverted, tagged with their colour`, async () => {
      const clip = makeClip(join(dir, `${pixFmt}.mp4`), 'testsrc2=size=64x36:rate=10:duration=0.6', { codec: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', pixFmt] });
      expect(nativeYuv(await probeMedia(clip))).toEqual(colour);
      const want = execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', clip, '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'], { maxBuffer: 1 << 24 });
      const frames = await lastValueFrom(fileSource(clip, { yuv: colour }).frames$.pipe(
        map((f) => {
          const copy = { format: f.format, colour: f.format === 'yuv420p' ? f.colour : null, size: [f.width, f.height], data: Buffer.from(f.data) };
          f.release();
          return copy;
        }),
        toArray(),
      ));
      expect(frames.length).toBe(6);
      for (const f of frames) expect(f).toMatchObject({ format: 'yuv420p', colour, size: [64, 36] });
      expect(Buffer.concat(frames.map((f) => f.data)).equals(want)).toBe(true);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { ffmpegSource } from '../../src/sources/ffmpeg-source.js';
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

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lastValueFrom, map, toArray } from 'rxjs';
import { ffmpegPath } from '../../src/ffmpeg/binary.js';
import { ffmpegSource } from '../../src/sources/ffmpeg-source.js';
import { rawFrameReader, type RawFrameReader } from '../../src/sources/raw-frames.js';
import { privateTmpdir } from '../helpers/tmpdir.js';

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** A byte pattern that differs in every frame and every position. */
const byteAt = (i: number) => (i * 7 + (i >> 8) * 13) & 255;
const PATTERN = 'const n=Number(process.argv[1]);const b=Buffer.alloc(n);for(let i=0;i<n;i++)b[i]=(i*7+(i>>8)*13)&255;process.stdout.write(b)';

interface Got { data: Uint8Array; slot: number; bytes: number[] }

/** A reader fed by a child that writes `total` pattern bytes; frames are copied out as they come. */
function feed(kind: 'fifo' | 'pipe', frameBytes: number, total: number, maxSlots: number) {
  const frames: Got[] = [];
  let end: { partialBytes: number; error: string | null } | null = null;
  const reader: RawFrameReader = rawFrameReader({
    frame: (data, slot) => frames.push({ data, slot, bytes: Array.from(data.subarray(0, frameBytes)) }),
    end: (partialBytes, error) => { end = { partialBytes, error }; },
  }, { maxSlots, kind });
  const child = spawn(process.execPath, ['-e', PATTERN, String(total)], { stdio: ['ignore', reader.stdout, 'ignore'] });
  reader.attach(child.stdout as Readable | null);
  reader.setFrameBytes(frameBytes);
  return { reader, frames, child, ended: () => end };
}

for (const kind of ['fifo', 'pipe'] as const) {
  describe(`raw frame reader (${kind})`, () => {
    const tmp = privateTmpdir('raw-frames-test-');
    /** Closes the reader, kills its writer: no frame after the `frames` already reported, no end event, no FIFO left. */
    const closeAndKill = async (f: ReturnType<typeof feed>, frames: number) => {
      f.reader.close();
      f.child.kill('SIGKILL');
      await new Promise((r) => f.child.once('close', r));
      await settle();
      expect(f.frames.length).toBe(frames);
      expect(f.ended()).toBeNull();
      if (kind === 'fifo') expect(readdirSync(tmp())).toEqual([]);
    };

    it('reads no further than allowed, and no more slots than it has', async () => {
      const bytes = 100_000; // more than a pipe holds, so a frame spans many reads
      const f = feed(kind, bytes, 6 * bytes + 1234, 3);
      try {
        await settle();
        expect(f.frames.length).toBe(0); // nothing allowed yet
        f.reader.allow(2);
        await settle();
        expect(f.frames.length).toBe(2);
        f.reader.allow(6);
        await settle();
        // Two slots are held and only three exist: the third frame fills the last one.
        if (kind === 'fifo') expect(f.frames.length).toBe(3);
        f.reader.release(f.frames[0]!.slot);
        f.reader.release(f.frames[1]!.slot);
        await settle();
        expect(f.frames.length).toBeGreaterThanOrEqual(5);
        for (const g of f.frames.slice(3)) f.reader.release(g.slot);
        await settle();
        expect(f.frames.length).toBe(6);
        // The tail is only read when a 7th frame is allowed (the pipe reader takes whole chunks, and may have it).
        if (kind === 'fifo') expect(f.ended()).toBeNull();
        f.reader.allow(7);
        await settle();
        // Every byte in order, in the frame it belongs to.
        f.frames.forEach((g, k) => {
          expect(g.bytes.length).toBe(bytes);
          for (const i of [0, 1, 65535, 65536, 65537, bytes - 1]) expect(g.bytes[i], `frame ${k} byte ${i}`).toBe(byteAt(k * bytes + i));
        });
        expect(f.ended()).toEqual({ partialBytes: 1234, error: null });
        if (kind === 'fifo') expect(readdirSync(tmp())).toEqual([]);
      } finally {
        f.reader.close();
        f.child.kill();
      }
    });

    it('a stopped reader lets the writer go and reports nothing more', async () => {
      const bytes = 50_000;
      const f = feed(kind, bytes, 40 * bytes, 4);
      f.reader.allow(1);
      await settle();
      expect(f.frames.length).toBe(1);
      await closeAndKill(f, 1);
    });

    it('closed before anything was read (even before the thread opened the FIFO): nothing is reported, nothing left behind', async () => {
      await closeAndKill(feed(kind, 1000, 10 * 1000, 2), 0);
    });

    it("ffmpegSource: the frames are ffmpeg's own bytes, with their pts", async () => {
      const saved = process.env.DEPTH_VIDEO_PIPE_READER;
      if (kind === 'pipe') process.env.DEPTH_VIDEO_PIPE_READER = '1';
      else delete process.env.DEPTH_VIDEO_PIPE_READER;
      try {
        const input = ['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=25'];
        const want = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', ...input, '-frames:v', '10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 }).stdout;
        const src = ffmpegSource({ inputArgs: input, label: 'lavfi', outputArgs: ['-frames:v', '10'], maxInFlight: 2 });
        const got = await lastValueFrom(src.frames$.pipe(
          map((f) => {
            const copy = { pts: f.pts, index: f.index, data: Buffer.from(f.data) };
            f.release();
            return copy;
          }),
          toArray(),
        ));
        expect(got.map((f) => f.index)).toEqual([...Array(10).keys()]);
        expect(got.map((f) => f.pts)).toEqual([...Array(10).keys()].map((i) => i / 25));
        expect(Buffer.concat(got.map((f) => f.data)).equals(want)).toBe(true);
        expect(src.damage).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env.DEPTH_VIDEO_PIPE_READER;
        else process.env.DEPTH_VIDEO_PIPE_READER = saved;
      }
    });
  });
}

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { RunControl } from '../../src/pipeline/control.js';
import { runPipeline, type PipelineOptions } from '../../src/pipeline/run.js';
import type { FrameSink } from '../../src/pipeline/types.js';
import { startPreviewServer } from '../../src/preview/server.js';
import { previewSink } from '../../src/preview/sink.js';
import { recorderSink } from '../../src/sinks/recorder-sink.js';
import { RECORD_FORMATS } from '../../src/sinks/recorder/index.js';
import { webcamSource } from '../../src/sources/webcam.js';
import { ffmpeg, makeClip, tempDir } from '../helpers/media.js';
import { KB, liveBytes, MB, medianSlope, slope } from '../helpers/memory.js';

/**
 * Memory must be flat in video length on every path: the decoder waits while
 * frames are in flight, buffers are pooled, sinks keep nothing per frame.
 * Each run samples this process's live bytes (after full collections) every
 * 20 frames once warmed up, and the least-squares slope over the next 1000
 * frames (and at least 500 inferred ones) must stay under 25 KB an inferred frame: a leak of 100 KB a frame
 * (3 MB/s at 30 fps, 10 GB an hour) gives 100 or more. Small frames keep the runs short; the bound is
 * per frame, not per pixel. RSS, which also sees the inference worker and
 * native memory, is held to a looser slope, and a median one: its pages come
 * and go in allocator-sized steps, and it swings by up to ~20 MB without
 * growing (145-163 MB over 6000 frames of the paced run), which over 400
 * frames could read as 50 KB a frame; over 500 inferred frames or more it
 * stays under 40. The first test plants a leak of 100 KB a frame, so both
 * measures are seen to fail.
 */
const WARMUP = 200;
const MEASURED = 1000;
/**
 * Inferred frames a slope needs to mean something. An async run infers what
 * the machine has time for, so a starved machine infers fewer of the 1000:
 * the run then goes on until it has this many (the paced file is long
 * enough for that), rather than fail for want of CPU.
 */
const MIN_INFERRED = 500;
/**
 * The paced async file: 300 s at 100 fps (6 s looped by stream copy, so it
 * costs no encoding), against the 12 s an idle machine needs: room for 500
 * inferences at up to 0.6 s each.
 */
const FAST_LOOPS = 50;
const EVERY = 20;
const MAX_SLOPE = 25 * KB;
const MAX_RSS_SLOPE = 60 * KB;
const W = 160;
const H = 90;

const RENDER = { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 } as const;

interface Growth {
  /** Bytes per inferred frame. */
  readonly perFrame: number;
  readonly rssPerFrame: number;
  readonly frames: number;
  readonly inferred: number;
}

/**
 * Runs the pipeline for WARMUP + MEASURED frames and MIN_INFERRED inferred
 * ones after the warm-up, sampling every EVERY frames after the warm-up.
 * The slope is per inferred frame: async runs drop frames, and a leak per
 * inferred frame or per frame read both show in it in full.
 */
async function measure(opts: Omit<PipelineOptions, 'hooks' | 'maxFrames'>): Promise<Growth> {
  const live: { x: number; y: number }[] = [];
  const rss: { x: number; y: number }[] = [];
  let written = 0;
  let inferred = 0;
  let inferredAtWarmup = 0;
  let stopped = false;
  const control = opts.control ?? new RunControl(opts.sync ? 'sync' : 'async');
  await runPipeline({
    ...opts,
    control,
    hooks: {
      onFrame: (out) => {
        written++;
        if (out.inferred) inferred++;
        if (written === WARMUP) inferredAtWarmup = inferred;
        if (written > WARMUP && written % EVERY === 0) {
          live.push({ x: inferred, y: liveBytes() });
          rss.push({ x: inferred, y: process.memoryUsage().rss });
        }
        if (written >= WARMUP + MEASURED && inferred - inferredAtWarmup >= MIN_INFERRED && !stopped) {
          stopped = true;
          control.stop.next();
        }
      },
    },
  });
  expect(written).toBeGreaterThanOrEqual(WARMUP + MEASURED);
  expect(inferred - inferredAtWarmup, `the input ended after ${written} frames, before ${MIN_INFERRED} were inferred after the warm-up`).toBeGreaterThanOrEqual(MIN_INFERRED);
  return { perFrame: slope(live), rssPerFrame: medianSlope(rss), frames: written, inferred: inferred - inferredAtWarmup };
}

function check(name: string, g: Growth): void {
  console.log(`${name}: ${(g.perFrame / KB).toFixed(2)} KB live, ${(g.rssPerFrame / KB).toFixed(1)} KB RSS per inferred frame, over ${g.inferred} inferred of ${g.frames - WARMUP} frames after the warm-up`);
  expect(g.perFrame, `${name}: live bytes per frame`).toBeLessThan(MAX_SLOPE);
  expect(g.rssPerFrame, `${name}: RSS per frame`).toBeLessThan(MAX_RSS_SLOPE);
}

describe('memory per frame', () => {
  let dir: string;
  let clip: string;
  let fast: string;
  beforeAll(async () => {
    await ensureGeneratedModel('analytic');
    dir = tempDir();
    const n = WARMUP + MEASURED + 20;
    clip = makeClip(join(dir, 'clip.mp4'), `testsrc2=size=${W}x${H}:rate=25:duration=${n / 25}`);
    // 100 fps, paced: a live-like async run that ends in seconds on an idle machine.
    const loop = makeClip(join(dir, 'loop.mp4'), `testsrc2=size=${W}x${H}:rate=100:duration=6`);
    fast = join(dir, 'fast.mp4');
    ffmpeg(['-stream_loop', String(FAST_LOOPS - 1), '-i', loop, '-c', 'copy', fast]);
  }, 120_000);

  const base = { model: 'analytic', render: RENDER, allowDownload: false, threads: 1 } as const;

  it('a sink that keeps 100 KB of every frame fails both bounds (the measure can fail)', async () => {
    const kept: Buffer[] = [];
    const leak: FrameSink = { name: 'leak', picture: 'none', write() { kept.push(Buffer.alloc(100 * KB, 1)); }, finish() {} };
    const g = await measure({ ...base, input: { kind: 'file', path: clip }, output: null, sync: true, sinks: [leak] });
    console.log(`planted leak: ${(g.perFrame / KB).toFixed(1)} KB live, ${(g.rssPerFrame / KB).toFixed(1)} KB RSS per inferred frame`);
    expect(g.perFrame).toBeGreaterThan(MAX_SLOPE);
    expect(g.rssPerFrame).toBeGreaterThan(MAX_RSS_SLOPE);
    kept.length = 0;
  });

  it('--sync file -> mp4 with --record in every format at once', async () => {
    const recorders: FrameSink[] = RECORD_FORMATS.map((format) => recorderSink({ dir: join(dir, `rec-${format}`), format, overwrite: false }));
    check(`sync + record ${RECORD_FORMATS.join('/')}`, await measure({ ...base, input: { kind: 'file', path: clip }, output: join(dir, 'sync.mp4'), sync: true, sinks: recorders }));
  });

  // No output file here: on a busy machine the encoder falls behind a 100 fps
  // input, and the frames queued for it (up to the 64 async slots, bounded)
  // would read as growth. The encoder's own path is measured above.
  it('async, paced file', async () => {
    check('async paced file', await measure({ ...base, input: { kind: 'file', path: fast }, output: null, sync: false }));
  }, 400_000);

  it('a lavfi camera with the preview and a viewer', async () => {
    const control = new RunControl('async');
    const hub = previewSink({ control, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true });
    const server = await startPreviewServer({ port: 0, hello: () => hub.hello(), onMessage: (m) => hub.onMessage(m) });
    hub.attach(server);
    let received = 0;
    const viewer = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    viewer.on('message', (d) => { received += (d as Buffer).length; });
    await new Promise((r) => viewer.once('open', r));
    const source = await webcamSource({ device: `lavfi:testsrc2=size=${W}x${H}:rate=100` });
    try {
      check('lavfi camera + preview', await measure({ ...base, input: { kind: 'source', source, label: 'camera' }, output: null, sync: false, control, sinks: [hub] }));
      expect(received).toBeGreaterThan(MB); // the viewer was fed throughout
    } finally {
      viewer.close();
    }
  });
});

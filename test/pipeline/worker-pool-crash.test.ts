import { afterEach, describe, expect, it } from 'vitest';
import { startFrameWorkers, type FrameWorkers } from '../../src/pipeline/frame-workers.js';
import type { PixelJob, PixelTargets } from '../../src/render/frame-pixels.js';

/**
 * The pool's account of crashes when more than one worker dies: the error
 * that reaches the run must name the first frame that is missing, because
 * the run says "at frame N; the N frames before it are in <file>". Under
 * vitest, DEPTH_VIDEO_TEST_WORKER_CRASH=1 ends each worker at its first
 * render job, before it reads the job.
 */
const job = { settings: {}, width: 2, height: 2, depth: null, frame: null, flickerStep: 0 } as unknown as PixelJob;
const targets = { unit: null, raw: null, depthRgb: null, rgb: null, yuv: null, flickerUnit: null, flickerRgb: null } satisfies PixelTargets;

function crashingWorkers(n: number): FrameWorkers {
  const before = process.env.DEPTH_VIDEO_TEST_WORKER_CRASH;
  process.env.DEPTH_VIDEO_TEST_WORKER_CRASH = '1';
  try {
    return startFrameWorkers(n);
  } finally {
    if (before === undefined) delete process.env.DEPTH_VIDEO_TEST_WORKER_CRASH;
    else process.env.DEPTH_VIDEO_TEST_WORKER_CRASH = before;
  }
}

const message = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);

describe('frame worker pool: crashes', () => {
  let pool: FrameWorkers | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('a second worker dying on an earlier frame moves the stop to that frame', async () => {
    pool = crashingWorkers(2);
    expect(await message(pool.render(job, targets, 7))).toBe('a frame worker thread stopped (exit code 70) at frame 7');
    // Frame 5 comes before the stop, so the worker left takes it, and dies on it too.
    expect(await message(pool.render(job, targets, 5))).toBe('a frame worker thread stopped (exit code 70) at frame 5');
    // From then on the run stops at frame 5: a frame after it is refused with that error.
    expect(await message(pool.render(job, targets, 6))).toBe('a frame worker thread stopped (exit code 70) at frame 5');
  });

  it('with no worker left, the first frame still queued is where the run stops', async () => {
    pool = crashingWorkers(1);
    const first = message(pool.render(job, targets, 4));
    // Queued behind the running job; its worker is the last one.
    const queued = [message(pool.render(job, targets, 2)), message(pool.render(job, targets, 3))];
    expect(await first).toBe('the last frame worker thread stopped (exit code 70), with frame 2 still to do');
    expect(await Promise.all(queued)).toEqual([
      'the last frame worker thread stopped (exit code 70), with frame 2 still to do',
      'the last frame worker thread stopped (exit code 70), with frame 2 still to do',
    ]);
  });
});

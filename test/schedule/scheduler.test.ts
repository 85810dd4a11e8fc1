import { describe, expect, it } from 'vitest';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { likelyTakenNext, newScheduleStats, scheduleFrames, type Scheduled } from '../../src/schedule/scheduler.js';
import type { ScheduleMode, VideoFrame } from '../../src/types.js';

function frame(index: number, released: Set<number>): VideoFrame {
  return { index, pts: index / 30, width: 1, height: 1, data: new Uint8Array(3), captureTime: 0, release: () => released.add(index) };
}

/** An inference whose completion the test controls. */
function manualInfer() {
  const calls: { index: number; resolve: (v: string) => void }[] = [];
  const infer = (f: VideoFrame) => new Promise<string>((resolve) => calls.push({ index: f.index, resolve }));
  return { calls, infer };
}

const tick = () => new Promise((r) => setImmediate(r));

async function run(mode: ScheduleMode | (() => ScheduleMode), arrivals: (src: Subject<VideoFrame>, step: () => Promise<void>) => Promise<void>, keepDroppedPixels = false) {
  const released = new Set<number>();
  const { calls, infer } = manualInfer();
  const stats = newScheduleStats();
  const src = new Subject<VideoFrame>();
  const out = lastValueFrom(src.pipe(scheduleFrames(infer, { mode: typeof mode === 'function' ? mode : () => mode, keepDroppedPixels, stats }), toArray()));
  let next = 0;
  // One step: the oldest running inference finishes with "r<index>".
  const step = async () => {
    const c = calls[next++]!;
    c.resolve(`r${c.index}`);
    await tick();
  };
  await arrivals({ next: (i: number) => src.next(frame(i, released)) } as unknown as Subject<VideoFrame>, step);
  src.complete();
  while (next < calls.length) await step();
  const items: Scheduled<string>[] = await out;
  return { items, stats, released, inferredIndices: calls.map((c) => c.index) };
}

describe('scheduleFrames', () => {
  it('async: latest waiting frame wins, every frame comes out in order with the latest earlier result', async () => {
    const { items, stats, inferredIndices, released } = await run('async', async (src, step) => {
      src.next(0); // starts at once
      src.next(1); src.next(2); src.next(3); // 1 and 2 dropped, 3 waits
      await step(); // 0 done -> 3 starts
      src.next(4); src.next(5); // 4 dropped, 5 waits
      await step(); // 3 done -> 5 starts
    });
    expect(inferredIndices).toEqual([0, 3, 5]);
    expect(items.map((i) => i.frame.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(items.map((i) => i.result)).toEqual(['r0', 'r0', 'r0', 'r3', 'r3', 'r5']);
    expect(items.map((i) => i.inferred)).toEqual([true, false, false, true, false, true]);
    expect(items.map((i) => i.droppedBefore)).toEqual([0, 0, 0, 2, 0, 1]);
    expect(stats).toEqual({ framesIn: 6, inferred: 3, dropped: 3, maxWaiting: 1 });
    expect(stats.dropped).toBe(stats.framesIn - stats.inferred);
    // Without a layout that shows the input, dropped frames give their slot back at once.
    expect([...released].sort()).toEqual([1, 2, 4]);
  });

  it('async keeps dropped frames alive when their pixels are still needed', async () => {
    const { released, stats } = await run('async', async (src, step) => {
      src.next(0); src.next(1); src.next(2);
      await step();
    }, true);
    expect(stats.dropped).toBe(1);
    expect(released.size).toBe(0);
  });

  it('sync: every frame is inferred, in order, one at a time', async () => {
    const { items, stats, inferredIndices } = await run('sync', async (src, step) => {
      src.next(0); src.next(1); src.next(2);
      await step();
      src.next(3);
      await step();
    });
    expect(inferredIndices).toEqual([0, 1, 2, 3]);
    expect(items.map((i) => [i.frame.index, i.result, i.inferred])).toEqual([[0, 'r0', true], [1, 'r1', true], [2, 'r2', true], [3, 'r3', true]]);
    expect(stats.dropped).toBe(0);
    expect(stats.maxWaiting).toBe(2);
  });

  it('sync with syncDepth 2: the next frame is handed over while one runs (its input prepared beside it), results in order', async () => {
    const released = new Set<number>();
    const { calls, infer } = manualInfer();
    const prefetched: number[] = [];
    const src = new Subject<VideoFrame>();
    const stats = newScheduleStats();
    const out = lastValueFrom(src.pipe(scheduleFrames(infer, { mode: () => 'sync', keepDroppedPixels: false, stats, syncDepth: 2, prefetch: (f) => prefetched.push(f.index) }), toArray()));
    src.next(frame(0, released)); // starts at once, nothing to prepare beside
    expect(calls.map((c) => c.index)).toEqual([0]);
    expect(prefetched).toEqual([]);
    src.next(frame(1, released)); // handed over at once, prepared beside 0's run
    src.next(frame(2, released)); // waits: two are in the session
    expect(calls.map((c) => c.index)).toEqual([0, 1]);
    expect(prefetched).toEqual([1, 2]);
    calls[0]!.resolve('r0');
    await tick();
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2]);
    // 2 finishes before 1 (a session would not, but order must not depend on it).
    calls[2]!.resolve('r2');
    await tick();
    calls[1]!.resolve('r1');
    await tick();
    src.complete();
    const items: Scheduled<string>[] = await out;
    expect(items.map((i) => [i.frame.index, i.result])).toEqual([[0, 'r0'], [1, 'r1'], [2, 'r2']]);
    expect(stats).toMatchObject({ framesIn: 3, inferred: 3, dropped: 0, maxWaiting: 1 });
  });

  it('sync with syncDepth 2 -> async: no new inference until both have ended, then the newest frame', async () => {
    let mode: ScheduleMode = 'sync';
    const { calls, infer } = manualInfer();
    const src = new Subject<VideoFrame>();
    const out = lastValueFrom(src.pipe(scheduleFrames(infer, { mode: () => mode, keepDroppedPixels: false, syncDepth: 2 }), toArray()));
    for (let i = 0; i < 4; i++) src.next(frame(i, new Set()));
    expect(calls.map((c) => c.index)).toEqual([0, 1]);
    mode = 'async';
    calls[0]!.resolve('r0');
    await tick();
    expect(calls.map((c) => c.index)).toEqual([0, 1]); // async runs one at a time: 1 still runs
    calls[1]!.resolve('r1');
    await tick();
    expect(calls.map((c) => c.index)).toEqual([0, 1, 3]); // 2 was overtaken
    calls[2]!.resolve('r3');
    src.complete();
    const items: Scheduled<string>[] = await out;
    expect(items.map((i) => [i.frame.index, i.result, i.inferred])).toEqual([[0, 'r0', true], [1, 'r1', true], [2, 'r1', false], [3, 'r3', true]]);
  });

  it('async stays exact when releasing a dropped frame makes the source emit at once', async () => {
    // A source with one free slot emits its next frame inside release(), the
    // way the ffmpeg source's pump may: the newest frame must still win.
    const src = new Subject<VideoFrame>();
    const { calls, infer } = manualInfer();
    const stats = newScheduleStats();
    let next = 0;
    const emit = () => {
      const i = next++;
      if (i >= 12) return;
      src.next({ index: i, pts: i / 30, width: 1, height: 1, data: new Uint8Array(3), captureTime: 0, release: () => { if (i % 3 === 1) emit(); } });
    };
    const out = lastValueFrom(src.pipe(scheduleFrames(infer, { mode: () => 'async', keepDroppedPixels: false, stats }), toArray()));
    emit(); emit(); emit();
    let done = 0;
    while (next < 12) { calls[done++]!.resolve('r'); await tick(); emit(); emit(); }
    src.complete();
    while (done < calls.length) { calls[done++]!.resolve('r'); await tick(); }
    const items = await out;
    const order = calls.map((c) => c.index);
    expect(stats.maxWaiting).toBeLessThanOrEqual(1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(items.map((i) => i.frame.index)).toEqual([...Array(items.length).keys()]);
    expect(stats.dropped).toBe(stats.framesIn - stats.inferred);
  });

  it('async -> sync while running: every frame from the switch on is inferred, the waiting one included', async () => {
    let mode: ScheduleMode = 'async';
    const { items, stats, inferredIndices } = await run(() => mode, async (src, step) => {
      src.next(0); // starts at once
      src.next(1); src.next(2); src.next(3); // async: 1 and 2 dropped, 3 waits
      mode = 'sync';
      src.next(4); src.next(5); // sync: both queue behind 3
      await step(); // 0 done -> 3
      await step(); // 3 done -> 4
      src.next(6);
    });
    expect(inferredIndices).toEqual([0, 3, 4, 5, 6]);
    expect(items.map((i) => [i.frame.index, i.result])).toEqual([[0, 'r0'], [1, 'r0'], [2, 'r0'], [3, 'r3'], [4, 'r4'], [5, 'r5'], [6, 'r6']]);
    expect(stats.dropped).toBe(2);
    expect(stats.maxWaiting).toBe(3);
  });

  it('sync -> async while running: latest wins from the next inference on, frames queued in sync included', async () => {
    let mode: ScheduleMode = 'sync';
    const { items, stats, inferredIndices, released } = await run(() => mode, async (src, step) => {
      src.next(0); // starts at once
      src.next(1); src.next(2); src.next(3); // sync: all three queue
      mode = 'async';
      await step(); // 0 done -> the newest, 3, not the oldest queued one
      src.next(4); src.next(5); // 4 dropped, 5 waits
      await step(); // 3 done -> 5
    });
    expect(inferredIndices).toEqual([0, 3, 5]);
    expect(items.map((i) => [i.frame.index, i.result, i.inferred])).toEqual([
      [0, 'r0', true], [1, 'r0', false], [2, 'r0', false], [3, 'r3', true], [4, 'r3', false], [5, 'r5', true],
    ]);
    expect(items.map((i) => i.droppedBefore)).toEqual([0, 0, 0, 2, 0, 1]);
    expect(stats).toEqual({ framesIn: 6, inferred: 3, dropped: 3, maxWaiting: 3 });
    // The stale frames gave their slots back when they were dropped.
    expect([...released].sort()).toEqual([1, 2, 4]);
  });

  it('sync -> async -> sync: each frame is handled by the mode in force when it arrives or is picked', async () => {
    let mode: ScheduleMode = 'sync';
    const { inferredIndices, items } = await run(() => mode, async (src, step) => {
      src.next(0); src.next(1); src.next(2);
      await step(); // sync: 0 done -> 1
      mode = 'async';
      src.next(3); // async: 2 is dropped, 3 waits
      mode = 'sync';
      src.next(4); // sync: 4 queues behind 3
      await step(); // 1 done -> 3
      await step(); // 3 done -> 4
    });
    expect(inferredIndices).toEqual([0, 1, 3, 4]);
    expect(items.map((i) => i.inferred)).toEqual([true, true, false, true, true]);
  });

  it('an inference error ends the stream with that error', async () => {
    const src = new Subject<VideoFrame>();
    const out = lastValueFrom(src.pipe(scheduleFrames(() => Promise.reject(new Error('boom')), { mode: () => 'sync', keepDroppedPixels: false })));
    src.next(frame(0, new Set()));
    await expect(out).rejects.toThrow('boom');
  });

  describe('async prefetch', () => {
    it('likelyTakenNext: yes when the running inference should end within one and a half arrival gaps', () => {
      // Started at 100, runs take 50: ends at 150. Frames every 20 ms: yes from 30 ms left.
      expect(likelyTakenNext(110, 100, 50, 20)).toBe(false); // 40 ms left: a newer frame comes first
      expect(likelyTakenNext(119.9, 100, 50, 20)).toBe(false);
      expect(likelyTakenNext(120, 100, 50, 20)).toBe(true); // exactly one and a half gaps left
      expect(likelyTakenNext(140, 100, 50, 20)).toBe(true);
      expect(likelyTakenNext(190, 100, 50, 20)).toBe(true); // overdue: still the next one
      expect(likelyTakenNext(110, 100, null, 20)).toBe(false); // no run timed yet
      expect(likelyTakenNext(110, 100, 50, null)).toBe(false); // one frame seen: no gap yet
    });

    /** Frames every `gap` ms on a fake clock into an inference that takes `runMs`; returns what was prefetched and inferred. */
    async function timedRun(runMs: number, gap: number, frames: number, prefetchAsync = true) {
      let clock = 0;
      const src = new Subject<VideoFrame>();
      const { calls, infer } = manualInfer();
      const stats = newScheduleStats();
      const prefetched: number[] = [];
      const started: number[] = [];
      const timedInfer = (f: VideoFrame) => { started.push(clock); return infer(f); };
      const out = lastValueFrom(src.pipe(scheduleFrames(timedInfer, {
        mode: () => 'async', keepDroppedPixels: false, stats, now: () => clock, prefetchAsync, prefetch: (f) => prefetched.push(f.index),
      }), toArray()));
      let done = 0;
      for (let i = 0; i < frames; i++) {
        clock = i * gap;
        // Inferences that end before this frame arrives end first.
        while (done < calls.length && started[done]! + runMs <= clock) {
          const end = started[done]! + runMs;
          const c = calls[done++]!;
          const t = clock;
          clock = end;
          c.resolve(`r${c.index}`);
          await tick();
          clock = t;
        }
        src.next(frame(i, new Set()));
        await tick();
      }
      src.complete();
      while (done < calls.length) { calls[done++]!.resolve('r'); await tick(); }
      await out;
      return { prefetched, inferred: calls.map((c) => c.index), stats };
    }

    it('a fast session (GPU-like: 20 ms runs, a frame every 33 ms) gets every frame it takes prepared ahead', async () => {
      const { prefetched, inferred } = await timedRun(20, 33, 30);
      // Nothing waits: each frame finds the session free. No guess is needed and none is made.
      expect(inferred).toEqual([...Array(30).keys()]);
      expect(prefetched).toEqual([]);
    });

    it('a session a little slower than the camera: the frames it takes are prepared ahead, few wasted', async () => {
      // Runs of 40 ms, a frame every 33 ms: most frames arrive while the session is busy.
      const { prefetched, inferred } = await timedRun(40, 33, 40);
      const taken = inferred.slice(2); // the guess needs one timed run and one gap
      const ahead = taken.filter((i) => prefetched.includes(i));
      expect(ahead.length).toBeGreaterThanOrEqual(taken.length - 1);
      // Some guesses miss (the margin of half a gap): at most one in three inferences.
      const wasted = prefetched.filter((i) => !inferred.includes(i));
      expect(wasted.length).toBeLessThanOrEqual(Math.ceil(inferred.length / 3));
    });

    it('a slow session (CPU-like: 200 ms runs, a frame every 33 ms) prepares about one frame per inference, not every frame', async () => {
      const { prefetched, inferred, stats } = await timedRun(200, 33, 90);
      const busyArrivals = stats.framesIn - inferred.length;
      expect(busyArrivals).toBeGreaterThan(60);
      // At most two preparations an inference (the frame that is taken, and one overtaken in the last gap).
      expect(prefetched.length).toBeLessThanOrEqual(2 * inferred.length);
      // And the frames taken after the first timed run were prepared ahead
      // (but the last: it arrived early in a run, and no newer frame came).
      const taken = inferred.slice(2, -1);
      expect(taken.every((i) => prefetched.includes(i)), `taken ${taken} prefetched ${prefetched}`).toBe(true);
    });

    it('without prefetchAsync (no frame workers) async never prefetches', async () => {
      const { prefetched } = await timedRun(200, 33, 30, false);
      expect(prefetched).toEqual([]);
    });
  });
});

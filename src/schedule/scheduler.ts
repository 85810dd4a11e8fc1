import { Observable, type OperatorFunction } from '../rx.js';
import type { ScheduleMode, VideoFrame } from '../types.js';

/** A frame on its way to the sinks, with the result it is shown with. */
export interface Scheduled<R> {
  readonly frame: VideoFrame;
  /** This frame's own result, or for a dropped frame the latest earlier one. */
  readonly result: R;
  /** True when `result` was computed from this very frame. */
  readonly inferred: boolean;
  /** Frames dropped since the previous inferred frame (for recordings and stats). */
  readonly droppedBefore: number;
}

export interface ScheduleStats {
  framesIn: number;
  inferred: number;
  dropped: number;
  /** Most frames ever waiting for the session at once (async: never above 1). */
  maxWaiting: number;
}

export function newScheduleStats(): ScheduleStats {
  return { framesIn: 0, inferred: 0, dropped: 0, maxWaiting: 0 };
}

/**
 * Async mode's guess that a frame arriving now is the one the session takes
 * next. It is, unless a newer frame arrives before the session is free: so
 * the guess is yes when the running inference should end within about one
 * arrival gap. The margin is half a gap more, for a camera's jitter and a
 * run that ends early: measured at 1080p with a session slower than the
 * camera, one gap left a quarter of the frames taken unprepared (their runs
 * then longer, which made the estimate worse); one and a half prepared
 * nearly all, for about one preparation wasted in three inferences.
 * A fast (GPU) session then gets its inputs ready before it asks; a slow
 * one wastes at most about one preparation per inference instead of one
 * per camera frame. No estimates yet: no guess.
 */
export function likelyTakenNext(nowMs: number, runStartMs: number, runMs: number | null, arrivalGapMs: number | null): boolean {
  if (runMs === null || arrivalGapMs === null) return false;
  return runStartMs + runMs - nowMs <= 1.5 * arrivalGapMs;
}

/** Exponential moving average; the first sample is taken as it is. */
function ema(prev: number | null, x: number, weight = 0.25): number {
  return prev === null ? x : prev + weight * (x - prev);
}

export interface ScheduleOptions {
  /**
   * `async`: the session works on one frame and at most one more waits; a
   * newer frame replaces the waiting one (latest wins), which is dropped.
   * `sync`: every frame waits its turn. Read on every frame and before
   * every inference, so the live preview can switch modes while running;
   * after a switch to async, latest wins from the next inference on.
   */
  readonly mode: () => ScheduleMode;
  /**
   * Keep the pixels of dropped frames until they are written (layouts that
   * show the input need them). Otherwise a dropped frame's slot goes back to
   * the source at once and only its timing travels on.
   */
  readonly keepDroppedPixels: boolean;
  /**
   * Called, in sync mode, with each frame that waits for the session (and
   * with the next one right after an inference starts): their preprocessing
   * can then run while the network works. (In async mode the next frame is
   * not known for sure: see `prefetchAsync`.) May be called more than once
   * for a frame.
   */
  readonly prefetch?: (f: VideoFrame) => void;
  /**
   * Also in async mode, hand `prefetch` a frame that arrives while the
   * session is busy when it is likely to be taken next (`likelyTakenNext`).
   * Worth it only where preparing runs beside the session (frame workers):
   * otherwise the session's own thread prepares the frame it takes.
   */
  readonly prefetchAsync?: boolean;
  /**
   * Inferences handed to the session at once in sync mode (default 1). With
   * 2, the next frame's input is already queued in the session's worker
   * when a run ends, so the session starts it at once instead of after a
   * round trip through this thread, whose event loop may be busy with the
   * sinks; results still come out in order.
   */
  readonly syncDepth?: number;
  readonly stats?: ScheduleStats;
  /** Clock for the async guess (tests); `performance.now` by default. */
  readonly now?: () => number;
}

interface Entry<R> {
  readonly frame: VideoFrame;
  state: 'waiting' | 'inferring' | 'dropped' | 'done';
  result?: R;
  droppedBefore: number;
}

/**
 * The scheduler between source and inference. Every input frame comes out,
 * in order: dropped frames carry the most recent earlier result, so the
 * output timeline matches the input's frame for frame. One inference runs at
 * a time; backpressure in sync mode comes from the source, whose frame slots
 * are only given back when the sinks are done with them.
 */
export function scheduleFrames<R>(infer: (f: VideoFrame) => Promise<R>, opts: ScheduleOptions): OperatorFunction<VideoFrame, Scheduled<R>> {
  const stats = opts.stats ?? newScheduleStats();
  return (source) =>
    new Observable<Scheduled<R>>((subscriber) => {
      const order: Entry<R>[] = []; // every frame not yet emitted, in index order
      const waiting: Entry<R>[] = []; // frames waiting for the session, oldest first
      let running = 0;
      let sourceDone = false;
      let last: { value: R } | null = null;
      let droppedSinceInferred = 0;
      let closed = false;
      const now = opts.now ?? (() => performance.now());
      let runStart = 0;
      let runMs: number | null = null;
      let lastArrival: number | null = null;
      let arrivalGapMs: number | null = null;

      const flush = () => {
        while (order.length) {
          const head = order[0]!;
          if (head.state === 'done') {
            order.shift();
            last = { value: head.result as R };
            subscriber.next({ frame: head.frame, result: head.result as R, inferred: true, droppedBefore: head.droppedBefore });
          } else if (head.state === 'dropped' && last) {
            order.shift();
            subscriber.next({ frame: head.frame, result: last.value, inferred: false, droppedBefore: 0 });
          } else break;
        }
        if (sourceDone && running === 0 && waiting.length === 0 && order.length === 0) subscriber.complete();
      };

      // Latest wins: frames overtaken by a newer one are dropped. A dropped
      // frame's slot goes back to the source after the caller has queued what
      // it needs, because a release may let the source emit again at once.
      const drop = (stale: Entry<R>[]) => {
        for (const old of stale) {
          old.state = 'dropped';
          stats.dropped++;
          droppedSinceInferred++;
        }
      };
      const release = (stale: Entry<R>[]) => {
        if (!opts.keepDroppedPixels) for (const old of stale) old.frame.release();
      };

      // Async: one inference at a time, so that the newest frame can be
      // picked when the session is free. Sync: `syncDepth`.
      const capacity = () => (opts.mode() === 'sync' ? Math.max(1, opts.syncDepth ?? 1) : 1);
      const startNext = () => {
        while (waiting.length && running < capacity()) startOne();
      };
      const startOne = () => {
        const sync = opts.mode() === 'sync';
        // After a switch from sync to async, the frames still queued from
        // sync mode are stale too: only the newest is inferred.
        const stale = waiting.length > 1 && !sync ? waiting.splice(0, waiting.length - 1) : [];
        drop(stale);
        const e = waiting.shift()!;
        // Queued behind a running inference: its input is prepared beside it.
        if (sync && running > 0 && opts.prefetch) opts.prefetch(e.frame);
        running++;
        e.state = 'inferring';
        e.droppedBefore = droppedSinceInferred;
        droppedSinceInferred = 0;
        const started = now();
        runStart = started;
        const result = infer(e.frame);
        release(stale);
        if (opts.prefetch && waiting.length && opts.mode() === 'sync') opts.prefetch(waiting[0]!.frame);
        result.then(
          (r) => {
            if (closed) return;
            // What the async guess needs: a run's length, not its wait behind another.
            if (running === 1) runMs = ema(runMs, now() - started);
            stats.inferred++;
            e.state = 'done';
            e.result = r;
            running--;
            // Start the next inference, then render this one while it runs.
            startNext();
            flush();
          },
          (err: unknown) => {
            if (!closed) subscriber.error(err);
          },
        );
      };

      const sub = source.subscribe({
        next: (frame) => {
          stats.framesIn++;
          const t = now();
          if (lastArrival !== null) arrivalGapMs = ema(arrivalGapMs, t - lastArrival);
          lastArrival = t;
          const e: Entry<R> = { frame, state: 'waiting', droppedBefore: 0 };
          order.push(e);
          // In async mode everything still waiting is now stale.
          const stale = opts.mode() === 'async' ? waiting.splice(0) : [];
          waiting.push(e);
          drop(stale);
          release(stale);
          if (running >= capacity()) {
            stats.maxWaiting = Math.max(stats.maxWaiting, waiting.length);
            // Every frame waiting in sync mode will be inferred: its input can be prepared now.
            if (opts.prefetch && opts.mode() === 'sync') opts.prefetch(frame);
            else if (opts.prefetch && opts.prefetchAsync && likelyTakenNext(t, runStart, runMs, arrivalGapMs)) opts.prefetch(frame);
          } else startNext();
          // A frame dropped behind a finished one may now be ready to go out.
          flush();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}

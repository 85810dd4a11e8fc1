import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DepthVideoError, errorText } from '../errors.js';
import { imageToTensor } from '../inference/preprocess.js';
import { requireBuiltScript } from '../paths.js';
import { renderPixels, type PixelJob, type PixelTargets } from '../render/frame-pixels.js';
import { pictureOf } from '../render/yuv-to-rgb.js';
import type { FrameImage, PreprocessSpec } from '../types.js';

/**
 * Threads for the per-frame pixel work of the pipeline: preprocessing (frame
 * -> network input) and rendering (prediction -> pictures). Each job reads
 * and writes memory the pipeline owns: frames and output slots are
 * SharedArrayBuffers, seen by every thread without a copy; the input tensor
 * and the prediction are moved (transferred), not copied. Jobs run in the
 * order given, on whichever worker is free, so several frames are worked on
 * at once while the main thread only schedules, keeps order and feeds the
 * sinks. With 0 workers the same functions run on the calling thread.
 */
export interface FrameWorkers {
  /** Worker threads (0: everything on the calling thread). */
  readonly count: number;
  /** Fills `tensor` (handed over) with the network input for `frame` (imageToTensor) and hands it back. */
  prepare(frame: FrameImage, spec: PreprocessSpec, size: { readonly width: number; readonly height: number }, tensor: Float32Array, frameIndex: number): Promise<{ tensor: Float32Array; ms: number }>;
  /** renderPixels(job, targets); the prediction in `job.depth` is handed over (detached on this side). */
  render(job: PixelJob, targets: PixelTargets, frameIndex: number): Promise<{ rawMin: number; rawMax: number; ms: number }>;
  /** Ends the workers; pending jobs fail. */
  close(): Promise<void>;
}

/** Messages between FrameWorkers and frame-worker.ts. */
export type ToFrameWorker =
  | { readonly kind: 'prepare'; readonly frame: FrameImage; readonly spec: PreprocessSpec; readonly width: number; readonly height: number; readonly tensor: Float32Array }
  | { readonly kind: 'render'; readonly job: PixelJob; readonly targets: PixelTargets };

// No job ids: a worker runs one job at a time, so its answer is for the job it was given.
export type FromFrameWorker =
  | { readonly kind: 'prepared'; readonly tensor: Float32Array; readonly ms: number }
  | { readonly kind: 'rendered'; readonly rawMin: number; readonly rawMax: number; readonly ms: number }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * Default worker count: a core for the main thread, the rest for pixel work,
 * at most 8 (beyond that the encoder and inference are the limit). At least
 * one, so the main thread never renders: on 2 cores the pixel work then
 * overlaps the main thread's decoding and encoder feed instead of delaying them.
 */
export function defaultFrameWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

function workerPath(): string {
  return requireBuiltScript('pipeline/frame-worker.js', 'frame worker');
}

/** The worker count to use: the one asked for (checked), else the default. */
export function frameWorkerCount(requested?: number): number {
  if (requested === undefined) return defaultFrameWorkers();
  if (!Number.isInteger(requested) || requested < 0 || requested > 64) throw new DepthVideoError('USAGE', `--workers takes a whole number from 0 to 64, got ${requested}`);
  return requested;
}

export function startFrameWorkers(count: number): FrameWorkers {
  return frameWorkerCount(count) === 0 ? inlineWorkers() : new WorkerPool(count);
}

/** fn's result with its time, or its error, as a promise: inline jobs fail the way pooled ones do, never by throwing. */
function timed<T extends object>(fn: () => T): Promise<T & { ms: number }> {
  const t0 = performance.now();
  try {
    return Promise.resolve({ ...fn(), ms: performance.now() - t0 });
  } catch (e) {
    return Promise.reject(e);
  }
}

function inlineWorkers(): FrameWorkers {
  return {
    count: 0,
    prepare: (frame, spec, size, tensor) => timed(() => { imageToTensor(frame, spec, size, tensor); return { tensor }; }),
    render: (job, targets) => timed(() => renderPixels(job, targets)),
    close: () => Promise.resolve(),
  };
}

interface Job {
  readonly msg: ToFrameWorker;
  readonly transfer: ArrayBuffer[];
  /** The frame the job works for (messages say where a run stopped). */
  readonly frameIndex: number;
  resolve(m: FromFrameWorker): void;
  reject(e: unknown): void;
}

/** Buffers a typed array can be moved with: its own, whole, unshared buffer (else it is copied). */
function movable(...arrays: (ArrayBufferView | null | undefined)[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of arrays) {
    if (!a || !(a.buffer instanceof ArrayBuffer) || out.includes(a.buffer)) continue;
    if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.push(a.buffer);
  }
  return out;
}

class WorkerPool implements FrameWorkers {
  private readonly workers: Worker[] = [];
  /** Workers that have not died. */
  private live: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private broken: DepthVideoError | null = null;
  /** The frame whose job was running when a worker died (jobs from it on fail). */
  private brokenAt = -Infinity;
  private closing = false;

  constructor(readonly count: number) {
    const path = workerPath();
    for (let i = 0; i < count; i++) {
      const w = new Worker(path);
      // Idle workers must not keep a finished program alive.
      w.unref();
      w.on('message', (m: FromFrameWorker) => this.done(w, m));
      w.on('error', (e) => this.fail(w, `failed (${errorText(e)})`));
      w.on('exit', (code) => { if (!this.closing) this.fail(w, `stopped (exit code ${code})`); });
      this.workers.push(w);
      this.live.push(w);
      this.idle.push(w);
    }
  }

  prepare(frame: FrameImage, spec: PreprocessSpec, size: { readonly width: number; readonly height: number }, tensor: Float32Array, frameIndex: number): Promise<{ tensor: Float32Array; ms: number }> {
    // Pixels not in shared memory travel as a copy (structured clone).
    const msg: ToFrameWorker = { kind: 'prepare', frame: pictureOf(frame), spec, width: size.width, height: size.height, tensor };
    return this.submit(msg, movable(tensor), frameIndex).then((m) => {
      if (m.kind !== 'prepared') throw new DepthVideoError('PIPELINE_CONFIG', 'internal: a frame worker answered a prepare job with a render result');
      return { tensor: m.tensor, ms: m.ms };
    });
  }

  render(job: PixelJob, targets: PixelTargets, frameIndex: number): Promise<{ rawMin: number; rawMax: number; ms: number }> {
    const msg: ToFrameWorker = { kind: 'render', job, targets };
    return this.submit(msg, movable(job.depth?.map.data, job.depth?.raw), frameIndex).then((m) => {
      if (m.kind !== 'rendered') throw new DepthVideoError('PIPELINE_CONFIG', 'internal: a frame worker answered a render job with a prepare result');
      return { rawMin: m.rawMin, rawMax: m.rawMax, ms: m.ms };
    });
  }

  private submit(msg: ToFrameWorker, transfer: ArrayBuffer[], frameIndex: number): Promise<FromFrameWorker> {
    // After a crash, frames before the one that failed are still done by the workers left.
    if (this.broken && (frameIndex >= this.brokenAt || !this.live.length)) return Promise.reject(this.broken);
    if (this.closing) return Promise.reject(new DepthVideoError('PIPELINE_CONFIG', 'internal: frame workers used after close'));
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, transfer, frameIndex, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.ref();
      w.postMessage(job.msg, job.transfer);
    }
  }

  private done(w: Worker, m: FromFrameWorker): void {
    const job = this.running.get(w);
    if (!job) return;
    this.running.delete(w);
    w.unref();
    this.idle.push(w);
    const what = job.msg.kind === 'prepare' ? 'preparing the network input of' : 'rendering';
    if (m.kind === 'failed') job.reject(new DepthVideoError('PIPELINE_CONFIG', `${what} frame ${job.frameIndex} failed in a frame worker (${m.message})`));
    else job.resolve(m);
    this.dispatch();
  }

  /**
   * A worker died (a crash in native code, out of memory): its job, and every
   * queued job for a later frame, fail with one error. Jobs for earlier
   * frames, running on other workers or still queued behind them, finish on
   * the workers that are left, so the run keeps every frame before the one
   * that failed. When another worker then dies on an earlier frame, the run
   * now stops there: the error is replaced by one naming that frame, so that
   * the frame it names is the first one missing.
   */
  private fail(w: Worker, what: string): void {
    const job = this.running.get(w);
    this.running.delete(w);
    const idleAt = this.idle.indexOf(w);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    this.live = this.live.filter((x) => x !== w);
    const frame = job?.frameIndex ?? -Infinity;
    if (!this.broken || frame < this.brokenAt) {
      const at = job ? ` at frame ${job.frameIndex}` : '';
      this.broken = new DepthVideoError('WORKER', `a frame worker thread ${what}${at}`);
      this.brokenAt = frame;
    }
    if (!this.live.length) {
      // No worker left for the earlier frames still queued: the first of them is where the run stops.
      const first = Math.min(...this.queue.map((j) => j.frameIndex));
      if (first < this.brokenAt) {
        this.broken = new DepthVideoError('WORKER', `the last frame worker thread ${what}, with frame ${first} still to do`);
        this.brokenAt = first;
      }
    }
    job?.reject(this.broken);
    const queued = this.queue.splice(0);
    for (const j of queued) {
      if (j.frameIndex < this.brokenAt && this.live.length) this.queue.push(j);
      else j.reject(this.broken);
    }
    this.dispatch();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = new DepthVideoError('PIPELINE_CONFIG', 'internal: frame workers closed with jobs pending');
    for (const j of this.queue.splice(0)) j.reject(stopped);
    for (const j of this.running.values()) j.reject(stopped);
    this.running.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

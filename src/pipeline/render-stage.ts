import { DepthVideoError } from '../errors.js';
import type { InferenceResult } from '../inference/session.js';
import type { FlickerMeter } from '../render/flicker-meter.js';
import { flickerGrid } from '../render/flicker-meter.js';
import { composesInYuv, depthAloneAsYuv, pictureSize, type PixelJob, type PixelTargets } from '../render/frame-pixels.js';
import type { DepthRenderer } from '../render/renderer.js';
import type { Scheduled } from '../schedule/scheduler.js';
import { OUTPUT_COLOUR, yuv420pSize } from '../render/yuv.js';
import { pictureOf } from '../render/yuv-to-rgb.js';
import type { RgbImage, Yuv420pImage } from '../types.js';
import type { FrameWorkers } from './frame-workers.js';
import type { FrameDepth, OutputFrame } from './types.js';

/** What the scheduler carries for an inferred frame (and its repeats). */
export interface InferredSlot {
  readonly inference: InferenceResult;
  /** Set when the frame is submitted to the render stage. */
  depth: DepthSlot | null;
}

/** A frame ready for the sinks, holding its buffers until released. */
export interface StagedFrame {
  readonly out: OutputFrame;
  /** The flicker meter's samples of an inferred frame (taken in output order). */
  readonly flicker: { readonly unit: Float32Array; readonly rgb: Uint8Array } | null;
  /** Every sink is done with it: its buffers can be reused. Extra calls are ignored. */
  release(): void;
}

interface Picture {
  readonly image: RgbImage | null;
  readonly yuv: Yuv420pImage | null;
}

/** One inferred frame's rendering, shared by the frames that repeat it. */
interface DepthSlot {
  readonly buffer: SharedArrayBuffer;
  readonly done: Promise<FrameDepth>;
  readonly unit: Float32Array | null;
  readonly raw: Float32Array | null;
  readonly depthRgb: Uint8Array | null;
  readonly picture: Picture;
  readonly flicker: { readonly unit: Float32Array; readonly rgb: Uint8Array } | null;
  /** Output frames using it, plus one while it is the latest (repeats may still come). */
  refs: number;
}

/** Regions of one shared buffer, laid out from the start with 16-byte alignment. */
class Regions {
  bytes = 0;
  take(n: number): number {
    const at = this.bytes;
    this.bytes = (at + n + 15) & ~15;
    return at;
  }
}

/**
 * SharedArrayBuffers reused by size: at 1080p a frame's pictures are 20 MB,
 * allocated once per run rather than once per frame. Every buffer in use
 * belongs to a frame that is alive, and the source bounds those, so the
 * number allocated is bounded too; at most `keep` of a size wait unused.
 */
class SharedBuffers {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  constructor(private readonly keep: number) {}
  acquire(bytes: number): SharedArrayBuffer {
    return this.free.get(bytes)?.pop() ?? new SharedArrayBuffer(bytes);
  }
  release(buf: SharedArrayBuffer): void {
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, (list = []));
    if (list.length < this.keep) list.push(buf);
  }
}

export interface RenderStageOptions {
  /** Colour range (the ordered stabiliser) and the settings of the moment. */
  readonly renderer: DepthRenderer;
  readonly workers: FrameWorkers;
  /**
   * Which pictures the sinks read, whether one wants the raw prediction at
   * frame size, and whether anyone reads the normalised depth (`unit`).
   */
  readonly wants: { readonly rgb: boolean; readonly yuv: boolean; readonly raw: boolean; readonly unit: boolean };
  readonly flicker: FlickerMeter | null;
}

/**
 * The render stage: frames come in scheduler order; each inferred one gets
 * its colour range here, on the calling thread (the stabiliser needs the
 * previous frame), and its pixels are rendered by a frame worker into a
 * shared buffer. submit() returns at once, so the next frames' renders start
 * while earlier ones are still running; the pipeline awaits the results in
 * order. A frame that repeats the latest depth (async drop) reuses its
 * picture, or, when the layout shows the input, composes its own.
 */
export class RenderStage {
  private readonly buffers: SharedBuffers;
  private latest: DepthSlot | null = null;
  /** Milliseconds of render work, wherever it ran. */
  renderMs = 0;

  constructor(private readonly opts: RenderStageOptions) {
    this.buffers = new SharedBuffers(Math.max(4, opts.workers.count + 2));
  }

  submit(s: Scheduled<InferredSlot>): Promise<StagedFrame> {
    const p = s.inferred ? this.submitInferred(s) : this.submitRepeat(s);
    // Rejections are seen when the pipeline reaches this frame; until then they must not count as unhandled.
    p.catch(() => undefined);
    return p;
  }

  /** The run is over: the latest depth is no longer needed for repeats. */
  close(): void {
    if (this.latest) this.unref(this.latest);
    this.latest = null;
  }

  private picture(buf: SharedArrayBuffer, at: { rgb: number; yuv: number }, w: number, h: number): Picture {
    return {
      image: at.rgb >= 0 ? { width: w, height: h, data: new Uint8Array(buf, at.rgb, w * h * 3) } : null,
      yuv: at.yuv >= 0 ? { format: 'yuv420p', colour: OUTPUT_COLOUR, width: w, height: h, data: new Uint8Array(buf, at.yuv, yuv420pSize(w, h)) } : null,
    };
  }

  private pictureRegions(r: Regions, w: number, h: number): { rgb: number; yuv: number } {
    return { rgb: this.opts.wants.rgb ? r.take(w * h * 3) : -1, yuv: this.opts.wants.yuv ? r.take(yuv420pSize(w, h)) : -1 };
  }

  private async submitInferred(s: Scheduled<InferredSlot>): Promise<StagedFrame> {
    const { frame } = s;
    const { renderer, workers, wants, flicker } = this.opts;
    const inference = s.result.inference;
    const st = renderer.stabilize(inference.depth);
    const settings = renderer.pixelSettings();
    const { width: w, height: h } = frame;
    const out = pictureSize(settings.layout, w, h, settings.evenOutput);
    const n = w * h;
    const flickerStep = flicker?.stepFor(w, h) ?? 0;
    const grid = flicker ? flickerGrid(w, h, flickerStep) : null;
    const g = grid ? grid.gw * grid.gh : 0;

    const r = new Regions();
    // Nobody reads the unit picture and the frame is the depth alone as
    // yuv420p: the kernels colour it without handing it out (8 MB at 1080p).
    const unitKept = wants.unit || wants.rgb || !depthAloneAsYuv(settings, wants.yuv);
    const unitAt = unitKept ? r.take(n * 4) : -1;
    const rawAt = wants.raw ? r.take(n * 4) : -1;
    const flickerUnitAt = g ? r.take(g * 4) : -1;
    const flickerRgbAt = g ? r.take(g * 4) : -1;
    // Kept for the repeats of a layout that shows the input, unless they compose in yuv420p (from the unit picture).
    const depthRgbAt = settings.layout !== 'depth' && !composesInYuv(frame, settings.layout, wants) ? r.take(n * 3) : -1;
    const pic = this.pictureRegions(r, out.width, out.height);
    const buffer = this.buffers.acquire(r.bytes);

    const unit = unitAt >= 0 ? new Float32Array(buffer, unitAt, n) : null;
    const raw = rawAt >= 0 ? new Float32Array(buffer, rawAt, n) : null;
    const depthRgb = depthRgbAt >= 0 ? new Uint8Array(buffer, depthRgbAt, n * 3) : null;
    const samples = g ? { unit: new Float32Array(buffer, flickerUnitAt, g), rgb: new Uint8Array(buffer, flickerRgbAt, g * 4) } : null;
    const picture = this.picture(buffer, pic, out.width, out.height);
    const job: PixelJob = {
      settings, width: w, height: h,
      depth: { map: { width: inference.depth.width, height: inference.depth.height, data: st.data }, raw: inference.depth.data, lo: st.lo, hi: st.hi },
      frame: flicker || settings.layout !== 'depth' ? pictureOf(frame) : null,
      flickerStep,
    };
    const targets: PixelTargets = { unit, raw, depthRgb, rgb: picture.image?.data ?? null, yuv: picture.yuv?.data ?? null, flickerUnit: samples?.unit ?? null, flickerRgb: samples?.rgb ?? null };
    const done = workers.render(job, targets, frame.index).then((res): FrameDepth => {
      this.renderMs += res.ms;
      return { width: w, height: h, unit, lo: st.lo, hi: st.hi, rawMin: res.rawMin, rawMax: res.rawMax, reset: st.reset };
    });
    // Held by this frame, and as the latest depth until the next inferred frame.
    const slot: DepthSlot = { buffer, done, unit, raw, depthRgb, picture, flicker: samples, refs: 2 };
    s.result.depth = slot;
    if (this.latest) this.unref(this.latest);
    this.latest = slot;
    let depth: FrameDepth;
    try {
      depth = await done;
    } catch (e) {
      this.unref(slot);
      throw e;
    }
    return this.staged(s, depth, picture, raw, samples, () => this.unref(slot));
  }

  private async submitRepeat(s: Scheduled<InferredSlot>): Promise<StagedFrame> {
    const slot = s.result.depth!;
    slot.refs++;
    try {
      const depth = await slot.done;
      const settings = this.opts.renderer.pixelSettings();
      // The picture depends on the depth alone: the one rendered for it serves.
      if (settings.layout === 'depth') return this.staged(s, depth, slot.picture, null, null, () => this.unref(slot));
      const { width: w, height: h } = s.frame;
      const out = pictureSize(settings.layout, w, h, settings.evenOutput);
      const r = new Regions();
      const at = this.pictureRegions(r, out.width, out.height);
      const buffer = this.buffers.acquire(r.bytes);
      const picture = this.picture(buffer, at, out.width, out.height);
      // Only a layout changed mid-run gets here without it, and the encoder's frame size changed with it.
      if (!slot.unit) throw new DepthVideoError('PIPELINE_CONFIG', `the layout changed to ${settings.layout} during the run: the output's size changes with it`);
      const res = await this.opts.workers.render(
        { settings, width: w, height: h, depth: null, frame: pictureOf(s.frame), flickerStep: 0 },
        { unit: slot.unit, raw: null, depthRgb: slot.depthRgb, rgb: picture.image?.data ?? null, yuv: picture.yuv?.data ?? null, flickerUnit: null, flickerRgb: null },
        s.frame.index,
      );
      this.renderMs += res.ms;
      return this.staged(s, depth, picture, null, null, () => {
        this.buffers.release(buffer);
        this.unref(slot);
      });
    } catch (e) {
      this.unref(slot);
      throw e;
    }
  }

  private staged(
    s: Scheduled<InferredSlot>,
    depth: FrameDepth,
    picture: Picture,
    raw: Float32Array | null,
    flicker: StagedFrame['flicker'],
    free: () => void,
  ): StagedFrame {
    const inference = s.result.inference;
    let released = false;
    return {
      out: {
        frame: s.frame,
        image: picture.image,
        yuv: picture.yuv,
        inferred: s.inferred,
        depth,
        raw: s.inferred ? raw : null,
        inferenceMs: inference.inferenceMs,
        droppedBefore: s.droppedBefore,
        inputSize: { width: inference.depth.width, height: inference.depth.height },
      },
      flicker,
      release: () => {
        if (released) return;
        released = true;
        free();
      },
    };
  }

  private unref(slot: DepthSlot): void {
    if (--slot.refs === 0) this.buffers.release(slot.buffer);
  }
}

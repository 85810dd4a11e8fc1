import type { RunControl } from '../pipeline/control.js';
import type { FrameSink, OutputFrame, PipelineContext } from '../pipeline/types.js';
import type { RenderSettings } from '../render/renderer.js';
import { COLORMAP_NAMES, colormapIndices } from '../render/colormap.js';
import type { RgbImage } from '../types.js';
import { JpegEncoder } from './jpeg-encoder.js';
import { DEFAULT_UPLOAD_LIMIT } from './photo.js';
import { colormapTables, encodeFrameMessage, type ClientMessage, type HelloMessage, type PreviewStats, type RenderState } from './protocol.js';
import type { PreviewServer } from './server.js';

/** Rate over the last few events, from their timestamps (ms). */
export class RateMeter {
  private times: number[] = [];
  constructor(private readonly window = 30) {}
  tick(t: number): void {
    this.times.push(t);
    if (this.times.length > this.window) this.times.shift();
  }
  get fps(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const span = this.times[n - 1]! - this.times[0]!;
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }
}

/** Widest depth picture sent to the page; wider ones are decimated (the page scales it to the view anyway). */
export const PREVIEW_DEPTH_MAX_WIDTH = 960;

/**
 * The depth as the page receives it: colour-table indices, every `step`-th
 * pixel of every `step`-th row when the frame is wider than maxWidth. The
 * map was upsampled from the (smaller) inference size, so dropping pixels
 * loses nothing the model saw, and a 1080p camera costs 518 KB a frame
 * instead of 2 MB.
 */
export function previewDepth(unit: Float32Array, width: number, height: number, invert: boolean, maxWidth = PREVIEW_DEPTH_MAX_WIDTH): { width: number; height: number; indices: Uint8Array } {
  const step = Math.max(1, Math.ceil(width / maxWidth));
  if (step === 1) return { width, height, indices: colormapIndices(unit, invert) };
  const w = Math.ceil(width / step);
  const h = Math.ceil(height / step);
  const kept = new Float32Array(w * h);
  for (let y = 0, k = 0; y < h; y++) {
    const row = y * step * width;
    for (let x = 0; x < w; x++, k++) kept[k] = unit[row + x * step]!;
  }
  return { width: w, height: h, indices: colormapIndices(kept, invert) };
}

export interface PreviewSinkOptions {
  readonly control: RunControl;
  readonly render: RenderState;
  /** Page layout changes reach the pipeline only when no output file fixes the picture size. */
  readonly forwardLayout: boolean;
  /** A recorder is attached (--record): the page's record button works, starting in this state. */
  readonly recorder?: { readonly recording: boolean } | null;
  readonly uploadLimit?: number;
  readonly jpegQuality?: number;
}

interface FrameMeta {
  readonly index: number;
  readonly captureTime: number;
  readonly width: number;
  readonly height: number;
  readonly depthCaptureTime: number;
  readonly inferred: boolean;
}

/** What the page's controls and greeting need from the preview sink. */
export interface PreviewHub {
  hello(): HelloMessage;
  onMessage(m: ClientMessage): void;
  attach(server: PreviewServer): void;
}

/**
 * The live preview as a pipeline sink, fanning frames out to every page (see
 * protocol.ts for the two parts). Each new depth goes out as soon as it is
 * written; the input picture is JPEG-encoded once for all viewers, newest
 * frame first. `write` never waits for encoding or clients (the pipeline
 * awaits every sink per frame).
 */
export function previewSink(opts: PreviewSinkOptions): FrameSink & PreviewHub {
  let server: PreviewServer | null = null;
  let render: RenderState = opts.render;
  let recording = opts.recorder?.recording ?? false;
  // The terminal's `r` key toggles too: the page follows whoever toggled.
  opts.control.recording.subscribe((on) => {
    if (on === recording) return;
    recording = on;
    server?.broadcast({ type: 'state', ...state() });
  });
  let ctxInfo: PipelineContext | null = null;
  const capture = new RateMeter();
  const inference = new RateMeter(10);
  const preview = new RateMeter();
  let read = 0;
  let inferred = 0;
  let lastInferenceMs = 0;
  let skipped = 0;

  const stats = (): PreviewStats => ({
    captureFps: capture.fps,
    inferenceMs: lastInferenceMs,
    inferenceFps: inference.fps,
    framesRead: read,
    framesInferred: inferred,
    framesDropped: read - inferred,
    previewFps: preview.fps,
    previewSkipped: skipped,
  });

  const encoder = new JpegEncoder<FrameMeta>((jpeg, meta) => {
    if (!server) return;
    if (candidate && !scheduled) { scheduled = true; setImmediate(encodeLatest); }
    const now = performance.now();
    preview.tick(now);
    server.broadcastFrame(encodeFrameMessage({
      type: 'frame',
      part: 'input',
      index: meta.index,
      width: meta.width,
      height: meta.height,
      ageMs: now - meta.captureTime,
      depthAgeMs: now - meta.depthCaptureTime,
      captureTime: meta.captureTime,
      inferred: meta.inferred,
      stats: stats(),
    }, jpeg));
  }, { quality: opts.jpegQuality ?? 6, maxPending: 1 });

  let lastInferredCapture = 0;
  let candidate: { input: RgbImage; meta: FrameMeta } | null = null;
  let scheduled = false;
  const encodeLatest = () => {
    scheduled = false;
    if (!candidate || encoder.pending >= 1) return; // the encoder's callback retries
    const c = candidate;
    candidate = null;
    if (!encoder.encode(c.input.data, c.input.width, c.input.height, c.meta)) skipped++;
  };

  const sendDepth = (s: PreviewServer, out: OutputFrame) => {
    const { width, height, indices } = previewDepth(out.depth.unit, out.depth.width, out.depth.height, render.invert);
    const now = performance.now();
    const age = now - out.frame.captureTime;
    s.broadcastFrame(encodeFrameMessage({
      type: 'frame', part: 'depth', index: out.frame.index, width, height,
      ageMs: age, depthAgeMs: age, captureTime: out.frame.captureTime, inferred: true, stats: stats(),
    }, indices));
  };

  const state = () => ({ render, schedule: opts.control.schedule.value, recording });

  const hello = (): HelloMessage => ({
    type: 'hello',
    live: true,
    source: ctxInfo?.source.label ?? null,
    model: ctxInfo?.model.label ?? null,
    untrained: ctxInfo?.model.untrained ?? false,
    device: ctxInfo?.model.deviceLabel ?? null,
    ...state(),
    canRecord: !!opts.recorder,
    colormaps: COLORMAP_NAMES,
    colormapTables: colormapTables(),
    uploadLimitBytes: opts.uploadLimit ?? DEFAULT_UPLOAD_LIMIT,
  });

  return {
    name: 'preview',
    wantsInputPixels: true,
    // The page gets colour-table indices from the unit depth, not a picture.
    picture: 'none',
    attach(s: PreviewServer) { server = s; },
    hello,
    onMessage(m: ClientMessage) {
      switch (m.type) {
        case 'render': {
          render = { ...render, ...m.patch };
          const { layout, ...rest } = m.patch;
          const patch: { -readonly [K in keyof RenderSettings]?: RenderSettings[K] } = { ...rest };
          if (layout && opts.forwardLayout && layout !== 'overlay') patch.layout = layout === 'depth' ? 'depth' : 'side-by-side';
          if (Object.keys(patch).length) opts.control.render.next(patch);
          break;
        }
        case 'schedule':
          opts.control.schedule.next(m.mode);
          break;
        case 'record':
          if (!opts.recorder) return;
          opts.control.recording.next(m.on);
          return; // the subscription above broadcasts the new state
        case 'stop':
          opts.control.stop.next();
          return;
        default:
          return;
      }
      server?.broadcast({ type: 'state', ...state() });
    },
    start(ctx: PipelineContext) {
      ctxInfo = ctx;
      // Viewers that connected while the model was loading got a hello
      // without source, model and device: they get the full one now.
      server?.broadcast(hello());
    },
    write(out: OutputFrame) {
      read++;
      capture.tick(out.frame.captureTime);
      if (out.inferred) {
        inferred++;
        lastInferenceMs = out.inferenceMs;
        lastInferredCapture = out.frame.captureTime;
        inference.tick(performance.now());
      }
      if (!server || server.clientCount === 0) return;
      if (out.inferred) sendDepth(server, out);
      // Frames reach sinks in bursts (dropped frames wait behind the inference
      // before them); only the newest of a burst is worth encoding. The input
      // pixels are copied because the frame's slot is reused after write().
      if (candidate) skipped++;
      candidate = {
        input: { width: out.frame.width, height: out.frame.height, data: Uint8Array.from(out.frame.data) },
        meta: { index: out.frame.index, captureTime: out.frame.captureTime, depthCaptureTime: lastInferredCapture, width: out.frame.width, height: out.frame.height, inferred: out.inferred },
      };
      if (!scheduled) { scheduled = true; setImmediate(encodeLatest); }
    },
    async finish(interrupted: boolean) {
      candidate = null;
      encoder.close();
      server?.broadcast({ type: 'end', reason: interrupted ? 'stopped' : 'the input ended' });
      // Let the goodbye leave before the sockets are torn down.
      await new Promise((r) => setTimeout(r, 50));
      await server?.close();
    },
    async abort() {
      encoder.close();
      server?.broadcast({ type: 'end', reason: 'the run failed' });
      await server?.close();
    },
  };
}

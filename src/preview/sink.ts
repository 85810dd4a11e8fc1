import type { RunControl } from '../pipeline/control.js';
import { depthUnit, type FrameSink, type OutputFrame, type PipelineContext } from '../pipeline/types.js';
import type { RenderSettings } from '../render/renderer.js';
import { COLORMAP_NAMES } from '../render/colormap.js';
import { pictureOf } from '../render/yuv-to-rgb.js';
import type { FrameImage, VideoFrame } from '../types.js';
import { JpegEncoder } from './jpeg-encoder.js';
import { DEFAULT_UPLOAD_LIMIT, type PhotoDepth } from './photo.js';
import { depthFractions, meshStep } from './depth-fine.js';
import { colormapTables, encodeFrameMessage, previewDepth, previewSize, type ClientMessage, type FrameHeader, type PreviewDepthBuffers, type HelloMessage, type PreviewStats, type RenderState } from './protocol.js';
import { InputBudget, RateMeter, type InputBudgetOptions } from './rates.js';
import type { PreviewServer } from './server.js';

/**
 * The input picture's budget: at most 30 pictures a second and 1.5 MB/s
 * (12 Mbit/s) per viewer, 8 MB/s for all viewers together, at previewSize
 * (frames wider than 960 px are scaled down by 2 or 3, like the depth). At
 * JPEG -q:v 6 a picture of 50 KB or less keeps a 30 fps camera's rate for
 * one viewer; 80 KB ones come 19 times a second; 50 viewers of 40 KB
 * pictures get 4 a second each.
 */
export const INPUT_BUDGET: InputBudgetOptions = { maxFps: 30, maxBytesPerSecond: 1.5 * 1024 * 1024, maxTotalBytesPerSecond: 8 * 1024 * 1024 };

export interface PreviewSinkOptions {
  readonly control: RunControl;
  readonly render: RenderState;
  /** Page layout changes reach the pipeline only when no output file fixes the picture size. */
  readonly forwardLayout: boolean;
  /** A recorder is attached (--record): the page's record button works, starting in this state. */
  readonly recorder?: { readonly recording: boolean } | null;
  readonly uploadLimit?: number;
  readonly jpegQuality?: number;
  readonly inputBudget?: InputBudgetOptions;
  /** The page's photo mode: while the run lasts, photos take turns on its model. */
  readonly photo?: PhotoDepth | null;
}

interface FrameMeta {
  readonly index: number;
  readonly captureTime: number;
  readonly width: number;
  readonly height: number;
  readonly depthCaptureTime: number;
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
  // From capture timestamps (pts): frames delivered in a burst after a stall
  // or a sync-to-async switch would read as hundreds of frames a second.
  const capture = new RateMeter();
  const inference = new RateMeter();
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
    photosInProgress: opts.photo?.inProgress ?? 0,
  });

  const budget = new InputBudget(opts.inputBudget ?? INPUT_BUDGET);
  let lastInferredCapture = 0;
  const encoder = new JpegEncoder<FrameMeta>((jpeg, meta) => {
    const now = performance.now();
    if (waiting) { waiting = false; startEncode(now); }
    if (!server) return;
    preview.tick(now);
    const { sent } = server.broadcastFrame(encodeFrameMessage({
      type: 'frame',
      part: 'input',
      index: meta.index,
      width: meta.width,
      height: meta.height,
      ageMs: now - meta.captureTime,
      depthAgeMs: now - meta.depthCaptureTime,
      captureTime: meta.captureTime,
      inferred: false,
      stats: stats(),
    }, jpeg), { yieldSlot: true });
    budget.delivered(now, jpeg.length, sent);
  }, { quality: opts.jpegQuality ?? 6, maxPending: 1 });

  // Two picture buffers, reused: the encoder reads one while the newest
  // capture waits in the other (latest wins), so no frame is allocated.
  let encoding = new Uint8Array(0);
  let spare = new Uint8Array(0);
  let waiting = false;
  // The picture in `spare` (its frame's format and size), and what its message will say (sent size included).
  let held: { picture: FrameImage | null; meta: FrameMeta | null } = { picture: null, meta: null };
  const holdInSpare = (f: VideoFrame) => {
    if (spare.length !== f.data.length) spare = new Uint8Array(f.data.length);
    spare.set(f.data);
    const { width, height } = previewSize(f.width, f.height);
    held = { picture: pictureOf(f), meta: { index: f.index, captureTime: f.captureTime, depthCaptureTime: lastInferredCapture, width, height } };
  };
  const startEncode = (now: number) => {
    [encoding, spare] = [spare, encoding];
    const meta = held.meta!;
    if (encoder.encode({ ...held.picture!, data: encoding }, meta, meta)) budget.started(now);
    else skipped++;
  };

  // The message is a copy: the indices can be overwritten by the next depth.
  const depthBuffers: PreviewDepthBuffers = { kept: new Float32Array(0), indices: new Uint8Array(0) };
  let fractions = new Uint8Array(0);
  const sendDepth = (s: PreviewServer, out: OutputFrame) => {
    const { width, height, indices, values } = previewDepth(depthUnit(out.depth), out.depth.width, out.depth.height, render.invert, undefined, depthBuffers);
    const now = performance.now();
    const age = now - out.frame.captureTime;
    const header: FrameHeader = {
      type: 'frame', part: 'depth', index: out.frame.index, width, height,
      ageMs: age, depthAgeMs: age, captureTime: out.frame.captureTime, inferred: true, inverted: render.invert, stats: stats(),
    };
    let fine: Buffer | undefined;
    if (s.fineClients > 0) {
      // Only for viewers with a 3D view open: the indices, then the fractions at the mesh's pixels.
      const step = meshStep(width);
      const bytes = Math.ceil(width / step) * Math.ceil(height / step);
      if (fractions.length !== bytes) fractions = new Uint8Array(bytes);
      fine = encodeFrameMessage({ ...header, fine: true }, indices, depthFractions(values, indices, width, height, step, render.invert, fractions));
    }
    // The plain message is only made for viewers without a 3D view: with none, every client gets `fine`.
    const plain = fine && s.fineClients >= s.clientCount ? fine : encodeFrameMessage(header, indices);
    s.broadcastFrame(plain, { fine });
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
      opts.photo?.share({ infer: ctx.infer, model: ctx.model });
    },
    capture(f: VideoFrame) {
      capture.tick(f.pts * 1000);
      if (!server || server.clientCount === 0) return;
      const now = performance.now();
      if (waiting) skipped++; // a newer capture replaces the one waiting
      else if (!budget.admit(now)) return;
      holdInSpare(f);
      if (encoder.pending === 0) startEncode(now);
      else waiting = true;
    },
    write(out: OutputFrame) {
      read++;
      if (!out.inferred) return;
      inferred++;
      lastInferenceMs = out.inferenceMs;
      lastInferredCapture = out.frame.captureTime;
      inference.tick(performance.now());
      if (server && server.clientCount > 0) sendDepth(server, out);
    },
    async finish(interrupted: boolean) {
      waiting = false;
      opts.photo?.share(null);
      encoder.close();
      server?.broadcast({ type: 'end', reason: interrupted ? 'stopped' : 'the input ended' });
      // Let the goodbye leave before the sockets are torn down.
      await new Promise((r) => setTimeout(r, 50));
      await server?.close();
    },
    async abort() {
      opts.photo?.share(null);
      encoder.close();
      server?.broadcast({ type: 'end', reason: 'the run failed' });
      await server?.close();
    },
  };
}

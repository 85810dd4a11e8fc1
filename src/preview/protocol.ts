import { COLORMAP_NAMES, colormapIndices, getColormap, isColormapName } from '../render/colormap.js';
import { gridSize, sampleInverse } from '../render/unproject.js';
import type { ColormapName, ScheduleMode } from '../types.js';

/** Widest picture (input and depth) sent to the page; wider ones are decimated (the page scales them to the view anyway). */
export const PREVIEW_MAX_WIDTH = 960;

/** The size a frame is sent at: every `step`-th pixel of every `step`-th row when it is wider than maxWidth. */
export function previewSize(width: number, height: number, maxWidth = PREVIEW_MAX_WIDTH): { width: number; height: number; step: number } {
  const step = Math.max(1, Math.ceil(width / maxWidth));
  const { cols, rows } = gridSize(width, height, step);
  return { width: cols, height: rows, step };
}

/** Buffers previewDepth reuses from one frame to the next (it grows them as needed). */
export interface PreviewDepthBuffers {
  kept: Float32Array;
  indices: Uint8Array;
}

/**
 * The depth as the page receives it: colour-table indices at previewSize.
 * The map was upsampled from the (smaller) inference size, so dropping
 * pixels loses nothing the model saw, and a 1080p camera costs 518 KB a
 * frame instead of 2 MB. With `reuse` (a live run, every frame) nothing is
 * allocated and the indices are valid until the next call.
 */
export function previewDepth(unit: Float32Array, width: number, height: number, invert: boolean, maxWidth = PREVIEW_MAX_WIDTH, reuse?: PreviewDepthBuffers): { width: number; height: number; indices: Uint8Array; values: Float32Array } {
  const { width: w, height: h, step } = previewSize(width, height, maxWidth);
  const n = w * h;
  let kept = unit;
  if (step > 1) {
    kept = reuse && reuse.kept.length >= n ? reuse.kept : new Float32Array(n);
    if (reuse) reuse.kept = kept;
    sampleInverse(unit, width, height, step, 1, 0, kept);
  }
  const indices = reuse && reuse.indices.length >= n ? reuse.indices : new Uint8Array(n);
  if (reuse) reuse.indices = indices;
  colormapIndices(kept.subarray(0, n), invert, indices);
  return { width: w, height: h, indices: indices.subarray(0, n), values: kept.subarray(0, n) };
}

/**
 * The preview's wire format. Frames are binary messages:
 *   u32 little-endian header length | header JSON (utf-8) | payload
 * Two parts travel separately, each encoded once for every viewer:
 *  - `input`: a JPEG of the camera picture at previewSize, from one
 *    persistent encoder, as the camera delivers it (within the sink's
 *    INPUT_BUDGET), not with the depth.
 *  - `depth`: width x height bytes, each pixel's colour-table index
 *    (`colormapIndices`: 0 = far, 255 = near), coloured in the page with the
 *    tables sent in the hello. Depth leaves the moment it is rendered (no
 *    encoder in its path: that was 11 ms of the capture-to-screen latency),
 *    its colours carry no JPEG ringing, and a colour-map click recolours the
 *    page at once.
 * Everything else is JSON text.
 */
export interface FrameHeader {
  readonly type: 'frame';
  readonly part: 'input' | 'depth';
  readonly index: number;
  readonly width: number;
  readonly height: number;
  /** Milliseconds from this part's capture to it leaving the server (encoding included). */
  readonly ageMs: number;
  /** Milliseconds from the capture of the frame whose depth is shown (the last inferred one) to leaving the server. */
  readonly depthAgeMs: number;
  /** The server's performance.now() at capture (same-process latency benchmarks). */
  readonly captureTime: number;
  /** Depth parts: always true. Input parts leave at capture, before anyone knows: false. */
  readonly inferred: boolean;
  /** Depth parts: the indices are far = 255 (--invert), so V = 1 - index/255. */
  readonly inverted?: boolean;
  /**
   * Depth parts to a viewer with a 3D view open: the payload is the indices
   * followed by their fractions at the 3D mesh's pixels (depth-fine.ts).
   */
  readonly fine?: boolean;
  readonly stats: PreviewStats;
}

export interface PreviewStats {
  readonly captureFps: number;
  readonly inferenceMs: number;
  readonly inferenceFps: number;
  readonly framesRead: number;
  readonly framesInferred: number;
  readonly framesDropped: number;
  readonly previewFps: number;
  /** Frames the preview itself skipped (encoder busy). */
  readonly previewSkipped: number;
  /** Photos being worked on: they take turns with the live frames on the model. */
  readonly photosInProgress: number;
}

export interface RenderState {
  readonly colormap: ColormapName;
  readonly invert: boolean;
  readonly highContrast: boolean;
  readonly layout: string;
}

export interface HelloMessage {
  readonly type: 'hello';
  readonly live: boolean;
  readonly source: string | null;
  readonly model: string | null;
  readonly untrained: boolean;
  /** Where the model runs, e.g. `webgpu (NVIDIA H200, …)`; null before it is loaded. */
  readonly device: string | null;
  readonly render: RenderState;
  readonly schedule: ScheduleMode;
  readonly recording: boolean;
  readonly canRecord: boolean;
  readonly colormaps: readonly string[];
  /** Each colour table as base64 of 768 bytes (RGB for index 0..255), for colouring depth in the page. */
  readonly colormapTables: Readonly<Record<string, string>>;
  readonly uploadLimitBytes: number;
}

/** The hello's colour tables: the page colours depth with exactly the tool's tables. */
export function colormapTables(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of COLORMAP_NAMES) out[name] = Buffer.from(getColormap(name)).toString('base64');
  return out;
}

export type ServerMessage =
  | HelloMessage
  | { readonly type: 'pong'; readonly t: number }
  | { readonly type: 'state'; readonly render: RenderState; readonly schedule: ScheduleMode; readonly recording: boolean }
  | { readonly type: 'end'; readonly reason: string };

export type ClientMessage =
  | { readonly type: 'render'; readonly patch: Partial<RenderState> }
  | { readonly type: 'schedule'; readonly mode: ScheduleMode }
  | { readonly type: 'record'; readonly on: boolean }
  | { readonly type: 'stop' }
  | { readonly type: 'ping'; readonly t: number }
  /** This viewer's 3D view opened or closed: depth with or without fractions (depth-fine.ts). */
  | { readonly type: 'depth3d'; readonly on: boolean };

/** The header, then the payload's parts one after the other (copied once, into the message). */
export function encodeFrameMessage(header: FrameHeader, ...payload: Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  let at = 4 + json.length;
  const out = Buffer.allocUnsafe(payload.reduce((n, p) => n + p.length, at));
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  for (const p of payload) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeFrameMessage(msg: Uint8Array): { header: FrameHeader; payload: Uint8Array } {
  const view = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  const n = view.readUInt32LE(0);
  const header = JSON.parse(view.subarray(4, 4 + n).toString('utf8')) as FrameHeader;
  return { header, payload: view.subarray(4 + n) };
}

const LAYOUTS = new Set(['side-by-side', 'overlay', 'depth']);

/**
 * Validates a message from a browser. Anything else (not JSON, unknown type,
 * wrong field types) is null: the server ignores it rather than trusting it.
 */
export function parseClientMessage(raw: string): ClientMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!m || typeof m !== 'object') return null;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'stop':
      return { type: 'stop' };
    case 'ping':
      return typeof o.t === 'number' && Number.isFinite(o.t) ? { type: 'ping', t: o.t } : null;
    case 'record':
      return typeof o.on === 'boolean' ? { type: 'record', on: o.on } : null;
    case 'depth3d':
      return typeof o.on === 'boolean' ? { type: 'depth3d', on: o.on } : null;
    case 'schedule':
      return o.mode === 'async' || o.mode === 'sync' ? { type: 'schedule', mode: o.mode } : null;
    case 'render': {
      const p = o.patch;
      if (!p || typeof p !== 'object') return null;
      const q = p as Record<string, unknown>;
      const patch: { colormap?: ColormapName; invert?: boolean; highContrast?: boolean; layout?: string } = {};
      if (q.colormap !== undefined) {
        if (typeof q.colormap !== 'string' || !isColormapName(q.colormap)) return null;
        patch.colormap = q.colormap;
      }
      if (q.invert !== undefined) { if (typeof q.invert !== 'boolean') return null; patch.invert = q.invert; }
      if (q.highContrast !== undefined) { if (typeof q.highContrast !== 'boolean') return null; patch.highContrast = q.highContrast; }
      if (q.layout !== undefined) {
        if (typeof q.layout !== 'string' || !LAYOUTS.has(q.layout)) return null;
        patch.layout = q.layout;
      }
      return Object.keys(patch).length ? { type: 'render', patch } : null;
    }
    default:
      return null;
  }
}

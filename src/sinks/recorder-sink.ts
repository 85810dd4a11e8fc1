import { constants } from 'node:fs';
import { access, readdir, rmdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Subscription } from '../rx.js';
import { DepthVideoError, errorText } from '../errors.js';
import { sha256File } from '../models/download.js';
import { packageVersion } from '../paths.js';
import type { RunControl } from '../pipeline/control.js';
import { depthUnit, type FrameSink, type OutputFrame, type PipelineContext } from '../pipeline/types.js';
import { toUint16 } from '../render/colormap.js';
import type { RenderSettings } from '../render/renderer.js';
import { mkdirParents } from './recorder/fs.js';
import { Recorder, type ManifestInit, type RecordFormat, type RecordingManifest } from './recorder/index.js';
import { counted } from '../count.js';

/**
 * The recorder as a pipeline sink: turns OutputFrames into RecordedFrames,
 * fills the manifest from the pipeline context, and follows the recording
 * toggle (`control.recording`).
 *
 * Toggles take effect at the next frame the sink sees: a segment starts at
 * that frame's index and ends (exclusive) at it. Only inferred frames are
 * written; a repeated depth carries no new data.
 *
 * Backpressure: in sync runs write() is awaited, so a slow disk slows the run
 * (every frame is kept). In async runs (files paced in real time, webcams) the
 * recorder queues on its own and write() returns at once; when more than
 * `maxPending` frames are queued for disk, the frame is skipped rather than
 * letting memory or latency grow without bound. A skipped frame is counted in
 * the next recorded frame's `droppedBefore` (so frames.jsonl still accounts
 * for every source frame since the previous recorded one) and in a warning
 * at the end.
 */

export interface RecorderSinkOptions {
  readonly dir: string;
  readonly format: RecordFormat;
  readonly overwrite: boolean;
  /** Stop recording (not the run) once the recording would grow past this. */
  readonly maxBytes?: number;
  /** Start with recording off; a toggle (`control.recording.next(true)`) starts it. */
  readonly paused?: boolean;
  /** Toggles arrive on `control.recording`; `control.schedule` tells sync from async. */
  readonly control?: RunControl;
  /** Frames queued for disk beyond which async runs skip frames (default 4). */
  readonly maxPending?: number;
  readonly onWarning?: (line: string) => void;
  /** Recording started or paused (for the terminal line). */
  readonly onToggle?: (recording: boolean, frameIndex: number) => void;
  /** The caller created the dir (checkRecordingDir): remove it again if the run fails before its first frame. */
  readonly createdDir?: boolean;
}

export interface RecorderSinkStats {
  readonly framesRecorded: number;
  /** Inferred frames inside a segment that were not written because the disk fell behind. */
  readonly framesSkipped: number;
}

export type RecorderSink = FrameSink & {
  readonly dir: string;
  readonly stats: RecorderSinkStats;
  /** The final manifest, once finish() ran. */
  readonly manifest: RecordingManifest | null;
};

const DEFAULT_MAX_PENDING = 4;

/**
 * Everything about the recording dir that can fail, checked before the run
 * decodes anything: a file in the way, a non-empty dir without overwrite,
 * a folder we cannot create or write. Creates the dir when missing and says
 * whether it did, so a run that fails before its first frame can remove it.
 */
export async function checkRecordingDir(dir: string, overwrite: boolean): Promise<{ created: boolean }> {
  const abs = resolve(dir);
  let isDir: boolean | null = null;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch {
    isDir = null;
  }
  if (isDir === false) throw new DepthVideoError('OUTPUT_DIR', `recording dir ${abs} is a file: choose another --record dir`, { file: abs });
  if (isDir) {
    const entries = await readdir(abs);
    if (entries.length > 0 && !overwrite) {
      throw new DepthVideoError('RECORDING', `recording dir ${abs} is not empty: choose another --record dir or pass --overwrite`, { file: abs });
    }
  }
  let created = false;
  if (!isDir) {
    try {
      await mkdirParents(abs);
      created = true;
    } catch (e) {
      throw new DepthVideoError('OUTPUT_DIR', `cannot create recording dir ${abs} (${errorText(e)}): choose a writable --record dir`, { file: abs, cause: e });
    }
  }
  try {
    await access(abs, constants.W_OK | constants.X_OK);
  } catch {
    throw new DepthVideoError('OUTPUT_DIR', `recording dir ${abs} is not writable: choose another --record dir or fix its permissions`, { file: abs });
  }
  return { created };
}

/** The manifest's fields that come from the run. */
export async function manifestFromContext(ctx: PipelineContext, render: RenderSettings | undefined): Promise<ManifestInit> {
  const m = ctx.model;
  let sha256: string | null = null;
  try {
    sha256 = await sha256File(m.path);
  } catch {
    sha256 = null; // a model file gone after loading is odd but not worth failing the run over
  }
  const fr = ctx.source.frameRate;
  return {
    tool: { name: 'depth-video', version: packageVersion() },
    model: { name: m.label, path: resolve(m.path), sha256, untrained: m.untrained, output: m.output },
    input: {
      path: ctx.inputPath ? resolve(ctx.inputPath) : ctx.source.label,
      width: ctx.source.width,
      height: ctx.source.height,
      frameRate: fr ? fr.num / fr.den : null,
    },
    frameSize: { width: ctx.source.width, height: ctx.source.height },
    inferenceSize: { width: ctx.inputSize.width, height: ctx.inputSize.height },
    spec: m.spec,
    render: render
      ? { colormap: render.colormap, invert: render.invert, highContrast: render.highContrast, layout: render.layout }
      : {},
    // lowPct/highPct are the renderer's fixed percentiles (src/render/renderer.ts).
    stabilize: render && render.stabilize !== 'off'
      ? { mode: render.stabilize, window: render.stabilizeWindow, lowPct: 2, highPct: 98 }
      : null,
  };
}

/** A FrameSink writing a recording dir (see src/sinks/recorder/index.ts for the layout). */
export function recorderSink(opts: RecorderSinkOptions): RecorderSink {
  const maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
  let recorder: Recorder | null = null;
  let finalManifest: RecordingManifest | null = null;
  let wanted = !opts.paused;
  let skipped = 0;
  // Source frames since the previous recorded frame that are not in the recording.
  let carryDropped = 0;
  let zeros = new Float32Array(0);
  let depth16 = new Uint16Array(0);
  const inflight = new Set<Promise<void>>();
  let sub: Subscription | null = null;
  let createdDir = opts.createdDir ?? false;
  let freshToggle = false;
  let liveSource = false;

  // Subscribed now, not in start(): a toggle pressed while the model loads still counts.
  if (opts.control) sub = opts.control.recording.subscribe((on) => { wanted = on; freshToggle = true; });

  const warn = (line: string) => opts.onWarning?.(line);

  const applyToggle = (index: number) => {
    const rec = recorder!;
    const fresh = freshToggle;
    freshToggle = false;
    if (wanted && !rec.recording) {
      if (rec.stoppedReason !== null) {
        // Stopped by a fault or the size limit (already warned about): a toggle cannot resume it.
        if (fresh) warn(`recording cannot restart: it stopped for good (${rec.stoppedReason})`);
        wanted = false;
        return;
      }
      rec.start(index);
      carryDropped = 0;
      opts.onToggle?.(true, index);
    } else if (!wanted && rec.recording) {
      rec.stop(index);
      opts.onToggle?.(false, index);
    }
  };

  return {
    name: 'recorder',
    wantsRaw: opts.format === 'float32' || opts.format === 'both',
    picture: 'none',
    get dir() {
      return resolve(opts.dir);
    },
    get stats(): RecorderSinkStats {
      return { framesRecorded: recorder?.framesRecorded ?? finalManifest?.framesRecorded ?? 0, framesSkipped: skipped };
    },
    get manifest() {
      return finalManifest;
    },
    async start(ctx: PipelineContext) {
      // The CLI checked the dir already; a library caller may not have.
      liveSource = ctx.source.live;
      createdDir = (await checkRecordingDir(opts.dir, opts.overwrite)).created || createdDir;
      recorder = await Recorder.create(opts.dir, {
        format: opts.format,
        overwrite: opts.overwrite,
        maxBytes: opts.maxBytes,
        manifest: await manifestFromContext(ctx, ctx.render),
        onWarning: warn,
      });
    },
    async write(out: OutputFrame) {
      const rec = recorder;
      if (!rec) return;
      applyToggle(out.frame.index);
      if (!rec.recording) return;
      if (!out.inferred) return; // its droppedBefore is folded into the next inferred frame's by the scheduler
      const sync = opts.control ? opts.control.schedule.value === 'sync' : true;
      if (!sync && rec.pending >= maxPending) {
        skipped++;
        carryDropped += out.droppedBefore + 1;
        return;
      }
      const { width, height } = out.frame;
      const n = width * height;
      if (depth16.length !== n) depth16 = new Uint16Array(n);
      toUint16(depthUnit(out.depth), depth16);
      let raw = out.raw;
      if (!raw) {
        // png16/ffv1 carry no raw data; the recorder still wants a buffer of the right size and never reads it.
        if (zeros.length !== n) zeros = new Float32Array(n);
        raw = zeros;
      }
      const p = rec.write({
        index: out.frame.index,
        pts: out.frame.pts,
        wallTime: Date.now(),
        inferMs: out.inferenceMs,
        rawMin: out.depth.rawMin,
        rawMax: out.depth.rawMax,
        droppedBefore: out.droppedBefore + carryDropped,
        width,
        height,
        depth16,
        raw,
      });
      carryDropped = 0;
      if (sync) {
        await p;
        return;
      }
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    async finish(interrupted: boolean) {
      sub?.unsubscribe();
      if (!recorder) return;
      await Promise.all(inflight);
      // Ctrl-C is how a live recording normally ends; only a file cut short is "stopped early".
      finalManifest = await recorder.close(interrupted && !liveSource ? 'interrupted before the end of the input' : undefined);
      if (skipped > 0) {
        warn(`recording skipped ${counted(skipped, 'inferred frame')} because the disk fell behind the stream (see droppedBefore in frames.jsonl); use --sync to keep every frame`);
      }
    },
    async abort() {
      sub?.unsubscribe();
      if (recorder) {
        await Promise.all(inflight);
        finalManifest = await recorder.close('the run failed');
        return;
      }
      // Failed before the first frame: leave no empty dir behind that we made.
      if (createdDir) await rmdir(resolve(opts.dir)).catch(() => undefined);
    },
  };
}

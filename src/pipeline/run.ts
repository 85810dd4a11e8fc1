import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { asapScheduler, concatMap, defer, filter, from, lastValueFrom, map, observeOn, defaultIfEmpty, tap } from '../rx.js';
import { DepthVideoError, isDepthVideoError } from '../errors.js';
import { probeMedia, type MediaInfo } from '../ffmpeg/probe.js';
import type { DeviceName } from '../inference/device.js';
import type { FallbackNode } from '../inference/placement.js';
import { DepthSession, type InferenceResult, type ModelDescription, type PreparedInput } from '../inference/session.js';
import { dropSpareInferenceWorker, prestartInferenceWorker } from '../inference/spare-worker.js';
import type { CheckpointChoice } from '../models/converted.js';
import { resolveModel } from '../models/resolve.js';
import { DepthRenderer, type RenderSettings } from '../render/renderer.js';
import { FlickerMeter } from '../render/flicker-meter.js';
import { pictureSize } from '../render/frame-pixels.js';
import { scheduleFrames, newScheduleStats, type Scheduled, type ScheduleStats } from '../schedule/scheduler.js';
import { RunControl } from './control.js';
import { encoderSink } from '../sinks/encoder-sink.js';
import { needsEvenSize, outputKind } from '../sinks/encoder.js';
import { isFramePattern, pointCloudSink } from '../sinks/point-cloud.js';
import { cameraModelProblem, DEFAULT_CAMERA, type CameraModel } from '../render/unproject.js';
import type { FrameSource, SourceInfo } from '../sources/ffmpeg-source.js';
import { fileSource, nativeYuv } from '../sources/file-source.js';
import type { PreprocessSpec, VideoFrame } from '../types.js';
import { checkOutput } from './output-check.js';
import { damageText } from './damage.js';
import { frameWorkerCount, startFrameWorkers, type FrameWorkers } from './frame-workers.js';
import { RenderStage, type InferredSlot, type StagedFrame } from './render-stage.js';
import type { FrameSink, OutputFrame, PipelineContext } from './types.js';
import { counted, nounFor } from '../count.js';

export type PipelineInput =
  | { readonly kind: 'file'; readonly path: string }
  /** Any other source (webcam, lavfi); `still` sources are not paced. */
  | { readonly kind: 'source'; readonly source: FrameSource; readonly label: string };

export interface PipelineOptions {
  readonly input: PipelineInput;
  /** Video or image file to write; null for preview/record-only runs. */
  readonly output: string | null;
  /** A manifest name, a generated model name, or a path to an .onnx file or a PyTorch checkpoint. */
  readonly model: string;
  /** For a checkpoint `model`: `--family` / `--max-depth` of its conversion. */
  readonly checkpoint?: CheckpointChoice;
  /**
   * An open session to run on instead of loading `model` (and `device`,
   * `threads`, `spec`); the caller closes it. A batch reuses one across files.
   */
  readonly session?: DepthSession;
  /** true: every frame (`--sync`); false: drop while busy, latest wins. */
  readonly sync: boolean;
  readonly render: RenderSettings;
  /** Overrides of the model's preprocessing (--size, --mean, --std, …). */
  readonly spec?: Partial<PreprocessSpec>;
  readonly overwrite?: boolean;
  /** Copy the input's audio into the output (default true). */
  readonly audio?: boolean;
  readonly lossless?: boolean;
  /** Default 'cpu' (the CLI's default is 'auto'). */
  readonly device?: DeviceName;
  readonly threads?: number;
  /**
   * Threads for preprocessing and rendering (see frame-workers.ts); 0 does
   * that work on the main thread. Default: the cores but one, 1 to 8.
   */
  readonly workers?: number;
  readonly maxFrames?: number;
  /** Pull a named model on first use when it is missing. */
  readonly allowDownload?: boolean;
  /** Near/far distances and field of view of `.ply` outputs (defaults in render/unproject.ts). */
  readonly pointCloud?: CameraModel;
  /** More sinks: the live preview, the recorder. */
  readonly sinks?: readonly FrameSink[];
  /** Aborting ends the run cleanly (like Ctrl-C): outputs are finished, a summary is returned. */
  readonly signal?: AbortSignal;
  /** Steering while running (preview controls, record toggle); its schedule overrides `sync`. */
  readonly control?: RunControl;
  readonly hooks?: PipelineHooks;
  /**
   * Lets a test slow down or observe inference without touching the model
   * (test-only seam). The pipeline owns the prediction it returns: its
   * buffer may be handed to a render thread.
   */
  readonly wrapInfer?: (infer: (f: VideoFrame) => Promise<InferenceResult>) => (f: VideoFrame) => Promise<InferenceResult>;
}

export interface ProgressInfo {
  readonly done: number;
  readonly total: number | null;
  readonly elapsedMs: number;
  readonly fps: number;
}

export interface PipelineHooks {
  /** The model is loaded (the CLI prints the untrained-model banner here). */
  onModel?(model: ModelDescription): void;
  onStart?(ctx: PipelineContext & { readonly expectedFrames: number | null }): void;
  onProgress?(p: ProgressInfo): void;
  onWarning?(line: string): void;
  /** What is being done before the run can start: a model downloaded or converted on first use (not a problem). */
  onNote?(line: string): void;
  /** Bytes of that download or conversion, done of total. */
  onModelProgress?(done: number, total: number | undefined): void;
  /** Called for every output frame after all sinks took it. */
  onFrame?(out: OutputFrame): void;
}

export interface RunSummary {
  readonly input: string;
  readonly output: string | null;
  readonly model: { readonly label: string; readonly path: string; readonly family: string; readonly untrained: boolean };
  readonly device: RunDevice;
  /**
   * `preparedAhead`: inferences whose input a frame worker had prepared
   * while the session ran the one before (the rest were prepared by the
   * session's own thread, in series with the network); `preparedUnused`:
   * inputs prepared ahead for frames then dropped (async guesses that missed).
   */
  readonly frames: { readonly read: number; readonly inferred: number; readonly dropped: number; readonly written: number; readonly preparedAhead: number; readonly preparedUnused: number };
  readonly schedule: 'async' | 'sync';
  readonly maxWaiting: number;
  readonly inputSize: { readonly width: number; readonly height: number } | null;
  readonly frameSize: { readonly width: number; readonly height: number } | null;
  /**
   * Mean milliseconds of each stage: preprocess and inference per inferred
   * frame, render and sinks per written frame, wherever they ran (the frame
   * workers, the inference worker; sinks: waiting for every sink to take the
   * frame). `main`: the main thread's busy time per written frame.
   */
  readonly meanMs: { readonly preprocess: number; readonly inference: number; readonly render: number; readonly sinks: number; readonly main: number };
  /** Frame worker threads (0: preprocessing and rendering ran on the main thread). */
  readonly workers: number;
  readonly wallMs: number;
  readonly fps: number;
  /**
   * Mean absolute change of the normalised depth (0..1) between consecutive
   * inferred frames, on pixels whose input did not change (see FlickerMeter);
   * compare --stabilize modes with it. null when nothing stood still.
   */
  readonly flicker: number | null;
  readonly stabilize: RenderSettings['stabilize'];
  /** Peak resident memory of this process so far (MiB); ffmpeg runs in its own processes. */
  readonly peakRssMiB: number;
  readonly interrupted: boolean;
  /** Input damage (truncated, corrupt): what ffmpeg reported, where, and what was kept; one line. */
  readonly damage: string | null;
  readonly warnings: readonly string[];
}

/**
 * Frames alive at once in sync mode: memory flat in video length, and a live
 * view at most this many inferences behind. For files each frame worker adds
 * one, so renders can overlap (syncMaxInFlight).
 */
export const SYNC_MAX_IN_FLIGHT = 4;
/**
 * Inferences handed to the session at once in sync mode: the next input
 * waits in the inference worker, so a fast (GPU) session starts it as soon
 * as a run ends instead of after a round trip through the main thread.
 */
export const SYNC_DEPTH = 2;
/** A paced file's frames alive at once in async mode (dropped frames wait behind the inference to be written). */
const ASYNC_MAX_IN_FLIGHT = 64;

/** Frames alive at once in sync mode with this many frame workers. */
export function syncMaxInFlight(workers: number): number {
  return SYNC_MAX_IN_FLIGHT + workers;
}

export interface RunDevice {
  /** What was asked for (--device). */
  readonly requested: DeviceName;
  /** What ran: cpu, webgpu, cuda, coreml or dml. */
  readonly name: string;
  /** One line, e.g. `webgpu (NVIDIA H200, Vulkan driver libGLX_nvidia.so.0)`. */
  readonly label: string;
  /** The WebGPU adapter's name and whether it renders in software. */
  readonly adapter: { readonly name: string; readonly driver: string | null; readonly software: boolean | null } | null;
  /** Nodes the GPU provider had no kernel for, run on the CPU (null: CPU run, or not known). */
  readonly cpuFallback: readonly FallbackNode[] | null;
}

/** Runs source → scheduler → inference → render → sinks and resolves with the summary. */
export async function runPipeline(opts: PipelineOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const warnings: string[] = [];
  // onnxruntime loads on another thread while the output is checked and the input probed.
  if (!opts.session) prestartInferenceWorker();
  try {
    return await runPipelineWith(opts, t0, warnings);
  } finally {
    // Left only when the run failed before its model loaded.
    await dropSpareInferenceWorker();
  }
}

async function runPipelineWith(opts: PipelineOptions, t0: number, warnings: string[]): Promise<RunSummary> {
  // 1. Everything that can fail fast fails before decoding starts.
  const inputLabel = opts.input.kind === 'file' ? opts.input.path : opts.input.label;
  const chk = opts.output
    ? await checkOutput(opts.output, { overwrite: opts.overwrite ?? false, input: opts.input.kind === 'file' ? opts.input.path : null, lossless: opts.lossless })
    : null;
  const media: MediaInfo | null = opts.input.kind === 'file' ? await probeMedia(opts.input.path) : null;
  if (chk?.kind === 'image' && media && !media.still) {
    throw new DepthVideoError('OUTPUT_FORMAT', `${opts.output}: the input ${inputLabel} is a video; give a video output (.mp4, .mkv, .webm)`, { file: opts.output ?? undefined });
  }
  if (chk?.kind === 'pointcloud') checkPointCloudRun(opts, media, inputLabel);
  const replaces = chk?.replaces ?? false;
  const pre: Prelude = { media, inputLabel, replaces, warnings, t0 };
  // The frame workers boot on their own threads while the model loads.
  const workers = startFrameWorkers(frameWorkerCount(opts.workers));
  try {
    if (opts.session) return await runWithSession(opts, opts.session, pre, workers);
    return await withOwnSession(opts, pre, workers);
  } finally {
    await workers.close();
  }
}

async function withOwnSession(opts: PipelineOptions, pre: Prelude, workers: FrameWorkers): Promise<RunSummary> {
  const warn = (line: string) => {
    pre.warnings.push(line);
    opts.hooks?.onWarning?.(line);
  };

  const { path: modelPath } = await resolveModel(opts.model, {
    allowDownload: opts.allowDownload ?? true, signal: opts.signal, onWarning: warn, checkpoint: opts.checkpoint,
    onNote: opts.hooks?.onNote, onProgress: opts.hooks?.onModelProgress,
  });
  if (opts.signal?.aborted) throw new DepthVideoError('INTERRUPTED', 'stopped before the model was loaded');
  const session = await DepthSession.open(modelPath, { device: opts.device, threads: opts.threads, spec: opts.spec, onWarning: warn });
  try {
    return await runWithSession(opts, session, pre, workers);
  } finally {
    await session.close();
  }
}

/** A point cloud run that cannot give what was asked fails before decoding. */
function checkPointCloudRun(opts: PipelineOptions, media: MediaInfo | null, inputLabel: string): void {
  const out = opts.output!;
  if (!isFramePattern(out) && !media?.still) {
    throw new DepthVideoError('OUTPUT_FORMAT', `${out}: the input ${inputLabel} is a video, which makes one point cloud per frame: give a pattern such as ${join(dirname(out), '%05d.ply')}`, { file: out });
  }
  if (opts.render.highContrast) {
    throw new DepthVideoError('USAGE', `${out}: --high-contrast reshapes the depth and would bend the point cloud; drop it for .ply outputs`, { file: out });
  }
  const problem = cameraModelProblem(opts.pointCloud ?? DEFAULT_CAMERA);
  if (problem) throw new DepthVideoError('USAGE', `${out}: ${problem}`, { file: out });
}

/** What runPipeline learned before the model was loaded. */
interface Prelude {
  readonly media: MediaInfo | null;
  readonly inputLabel: string;
  /** The output exists and is being replaced (--overwrite). */
  readonly replaces: boolean;
  readonly warnings: string[];
  readonly t0: number;
}

async function runWithSession(opts: PipelineOptions, session: DepthSession, pre: Prelude, workers: FrameWorkers): Promise<RunSummary> {
  const { media, inputLabel, replaces, warnings, t0 } = pre;
  const still = media?.still ?? false;
  // What progress counts to: --max-frames cuts the file's own count short,
  // and is the whole count of a live source.
  const expectedFrames = opts.maxFrames ? Math.min(opts.maxFrames, media?.expectedFrames ?? Infinity) : media?.expectedFrames ?? null;
  opts.hooks?.onModel?.(session.model);

  const sinks: FrameSink[] = [];
  if (opts.output && outputKind(opts.output) === 'pointcloud') {
    sinks.push(pointCloudSink({ output: opts.output, camera: opts.pointCloud ?? DEFAULT_CAMERA, metric: session.model.output === 'metric-depth' }));
  } else if (opts.output) {
    sinks.push(encoderSink({
      output: opts.output,
      audio: opts.audio !== false && media?.audio && !still && opts.input.kind === 'file' ? { path: opts.input.path, codec: media.audio.codec } : null,
      lossless: opts.lossless ?? false,
      viaTemp: replaces,
    }));
  }
  sinks.push(...(opts.sinks ?? []));
  const wantsRaw = sinks.some((s) => s.wantsRaw);
  const workerCount = workers.count;

  const source: FrameSource = opts.input.kind === 'file'
    ? fileSource(opts.input.path, { pace: !opts.sync && !still, maxInFlight: ASYNC_MAX_IN_FLIGHT, maxFrames: opts.maxFrames, yuv: media ? nativeYuv(media) : null, orientation: media?.orientation })
    : opts.input.source;

  const control = opts.control ?? new RunControl(opts.sync ? 'sync' : 'async');
  // One picture: nothing to pace or drop, so it is processed (and reported) as sync.
  if (still) control.schedule.next('sync');
  let stoppedByControl = false;
  const onAbort = () => source.stop();
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const controlSubs = [
    control.stop.subscribe(() => { stoppedByControl = true; source.stop(); }),
    // Sync infers every frame the source lets through, so the frames alive
    // are the lag behind the camera; async drops instead, and keeps dropped
    // frames' pixels until they are shown, so it needs the source's full count.
    // A file has no camera to lag behind: one more frame per worker lets its renders overlap.
    control.schedule.subscribe((mode) => source.limitInFlight?.(mode !== 'sync' ? null : opts.input.kind === 'file' ? syncMaxInFlight(workerCount) : SYNC_MAX_IN_FLIGHT)),
  ];

  const spec = session.model.spec;
  const pictures = sinks.map((s) => s.picture ?? 'rgb24');
  // 4:2:0 pictures (an encoder's, or a sink's that reads yuv420p) need even sides.
  const evenOutput = (opts.output ? needsEvenSize(opts.output, opts.lossless ?? false) : false) || pictures.includes('yuv420p');
  const renderer = new DepthRenderer(opts.render, spec.outputInterpolation, spec.outputAlignCorners, evenOutput, session.model.output);
  controlSubs.push(control.render.subscribe((patch) => renderer.update(patch)));
  const stats: ScheduleStats = newScheduleStats();
  const flickerMeter = new FlickerMeter();
  const ms = { preprocess: 0, inference: 0, sinks: 0 };
  let written = 0;
  let firstPts: number | null = null;
  let lastPts: number | null = null;
  let started = false;
  let ctx: PipelineContext | null = null;
  let sourceInfo: SourceInfo | null = null;
  let inputSize: { width: number; height: number } | null = null;

  // Inputs prepared ahead (sync mode), on the frame workers: frame index -> tensor.
  const prepared = new Map<number, Promise<PreparedInput>>();
  const prefetch = (f: VideoFrame) => {
    if (prepared.has(f.index)) return;
    const size = session.inputSize(f.width, f.height);
    const p = workers.prepare(f, spec, size, session.inputBuffer(3 * size.width * size.height), f.index)
      .then((r): PreparedInput => ({ tensor: r.tensor, width: size.width, height: size.height, preprocessMs: r.ms }));
    // Awaited when its frame is inferred; a frame dropped after it was prepared never is.
    p.catch(() => undefined);
    prepared.set(f.index, p);
  };
  let preparedAhead = 0;
  let preparedUnused = 0;
  const baseInfer = async (f: VideoFrame): Promise<InferenceResult> => {
    const input = prepared.get(f.index);
    // Inputs of frames dropped after they were prepared (async, or a switch
    // to it) are forgotten, their buffers given back once the job is done.
    // (A dropped frame's slot may have gone back to the source while its job
    // still read it: that input is never run, so a torn picture does no harm.)
    for (const [k, p] of prepared) {
      if (k > f.index) continue;
      prepared.delete(k);
      if (k === f.index) continue;
      preparedUnused++;
      p.then((r) => session.returnInput(r.tensor), () => undefined);
    }
    if (input) preparedAhead++;
    const r = input ? await session.run(await input) : await session.infer(f);
    ms.preprocess += r.preprocessMs;
    ms.inference += r.inferenceMs;
    return r;
  };
  const infer = opts.wrapInfer ? opts.wrapInfer(baseInfer) : baseInfer;
  // A lost GPU, or a frame worker that died while preparing a frame, ends
  // the run as Ctrl-C does: reading stops, the frames inferred before it are
  // still rendered and written, the frames after it (null slots) are let go,
  // and the error comes once the output is finished.
  let stoppedBy: DepthVideoError | null = null;
  const toSlot = async (f: VideoFrame): Promise<InferredSlot | null> => {
    if (stoppedBy) return null;
    try {
      return { inference: await infer(f), depth: null };
    } catch (e) {
      if (!isDepthVideoError(e) || (e.code !== 'DEVICE_LOST' && e.code !== 'WORKER')) throw e;
      stoppedBy ??= e;
      source.stop();
      return null;
    }
  };
  // Layouts that show the input need the pixels of every frame, dropped or not.
  const keepPixels = opts.render.layout !== 'depth' || sinks.some((s) => s.wantsInputPixels);

  const deliver = async (staged: StagedFrame): Promise<void> => {
    const out = staged.out;
    try {
      if (staged.flicker) flickerMeter.addSamples(out.frame.width, out.frame.height, staged.flicker.unit, staged.flicker.rgb);
      if (!started) {
        started = true;
        sourceInfo = await source.info;
        inputSize = out.inputSize;
        ctx = {
          source: sourceInfo,
          model: session.model,
          inputSize: out.inputSize,
          outputSize: pictureSize(renderer.settings.layout, out.frame.width, out.frame.height, evenOutput),
          firstPts: out.frame.pts,
          render: renderer.settings,
          inputPath: opts.input.kind === 'file' ? opts.input.path : null,
          infer: (img) => session.infer(img),
        };
        opts.hooks?.onStart?.({ ...ctx, expectedFrames });
        for (const s of sinks) await s.start?.(ctx);
      }
      // Frames already in flight when a live source was stopped at --max-frames.
      if (opts.maxFrames && written >= opts.maxFrames) return;
      const s0 = performance.now();
      for (const s of sinks) await s.write(out);
      ms.sinks += performance.now() - s0;
      written++;
      firstPts ??= out.frame.pts;
      lastPts = out.frame.pts;
      // Files are cut by the decoder (-frames:v); live sources are stopped here.
      if (opts.maxFrames && written >= opts.maxFrames && opts.input.kind === 'source') source.stop();
      opts.hooks?.onFrame?.(out);
      const elapsed = performance.now() - t0;
      opts.hooks?.onProgress?.({ done: written, total: expectedFrames, elapsedMs: elapsed, fps: written / (elapsed / 1000) });
    } finally {
      staged.release();
      out.frame.release();
    }
  };

  const stage = new RenderStage({
    renderer,
    workers,
    wants: {
      rgb: pictures.includes('rgb24'), yuv: pictures.includes('yuv420p'), raw: wantsRaw,
      unit: opts.hooks?.onFrame !== undefined || sinks.some((s) => s.wantsDepthUnit !== false),
    },
    flicker: flickerMeter,
  });
  const capturing = sinks.filter((s) => s.capture);
  const flow$ = defer(() => source.frames$).pipe(
    tap((f) => { for (const s of capturing) s.capture!(f); }),
    // Async prefetching needs frame workers: without them it would run on this thread.
    scheduleFrames(toSlot, { mode: () => control.schedule.value, keepDroppedPixels: keepPixels, stats, prefetch, prefetchAsync: workers.count > 0, syncDepth: SYNC_DEPTH }),
    // Rendering waits for the next macrotask, by which time the next frame's
    // inference is already running on onnxruntime's threads: the two overlap.
    observeOn(asapScheduler),
    filter((s): s is Scheduled<InferredSlot> => {
      if (s.result) return true;
      s.frame.release();
      return false;
    }),
    // Renders start here, in order, and run side by side on the workers;
    // the sinks take the frames one at a time, in order.
    map((s) => stage.submit(s)),
    concatMap((staged) => from(staged.then(deliver))),
    defaultIfEmpty(undefined),
  );

  const loop0 = performance.eventLoopUtilization();
  let failed: unknown = null;
  try {
    await lastValueFrom(flow$);
  } catch (e) {
    failed = e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const sub of controlSubs) sub.unsubscribe();
    stage.close();
    await workers.close();
  }
  const mainMs = performance.eventLoopUtilization(loop0).active;
  // A frame worker that died ends the run as Ctrl-C does: the frames before
  // it are finished and playable, and the error says so.
  // (Set in a callback, which TypeScript's narrowing does not follow.)
  const stopped = stoppedBy as DepthVideoError | null;
  const lost = stopped?.code === 'DEVICE_LOST' ? stopped : null;
  // A render job's failure reaches the flow itself, after every frame before it was delivered.
  const crashed = isDepthVideoError(failed) && failed.code === 'WORKER' ? failed : stopped?.code === 'WORKER' ? stopped : null;
  if (crashed === failed) failed = null;
  const interrupted = (opts.signal?.aborted ?? false) || stoppedByControl || lost !== null || crashed !== null;
  // Every sink gets its turn to finish (or abort) even when another one
  // fails, and the worker is always closed; the first error is reported.
  for (const s of sinks) {
    try {
      await (failed ? (s.abort ? s.abort() : s.finish(true)) : s.finish(interrupted));
    } catch (e) {
      failed ??= e;
    }
  }
  if (failed) throw failed;
  const kept = opts.output ? `; the ${counted(written, 'frame')} before it ${nounFor(written, 'is', 'are')} in ${opts.output}` : '';
  if (lost) throw new DepthVideoError('DEVICE_LOST', lost.message + kept, { file: lost.file, cause: lost });
  if (crashed) {
    throw new DepthVideoError('WORKER', `${crashed.message}${kept}; run again, or with --workers 0 to render on the main thread`, { file: opts.output ?? undefined, cause: crashed });
  }

  if (written === 0 && !interrupted) {
    // A file got here only after probing found a video stream in it.
    throw opts.input.kind === 'file'
      ? new DepthVideoError('INPUT_DAMAGED', `${inputLabel} is damaged or truncated: no frame could be decoded; re-copy or re-export the file`, { file: inputLabel })
      : new DepthVideoError('INPUT_NOT_MEDIA', `${inputLabel}: no frames could be decoded`, { file: inputLabel });
  }
  const damage = source.damage.length && !interrupted
    ? damageText(inputLabel, source.damage, { count: written, firstPts, lastPts }, { expected: expectedFrames, live: opts.input.kind === 'source' })
    : null;
  const wallMs = performance.now() - t0;
  const n = Math.max(1, stats.inferred);
  return {
    input: inputLabel,
    output: opts.output,
    model: { label: session.model.label, path: session.model.path, family: session.model.family, untrained: session.model.untrained },
    device: {
      requested: session.model.device.requested,
      name: session.model.device.device,
      label: session.model.deviceLabel,
      adapter: session.model.device.adapter,
      cpuFallback: session.cpuFallbackNodes,
    },
    frames: { read: stats.framesIn, inferred: stats.inferred, dropped: stats.dropped, written, preparedAhead, preparedUnused: preparedUnused + prepared.size },
    schedule: control.schedule.value,
    maxWaiting: stats.maxWaiting,
    inputSize,
    frameSize: sourceInfo ? { width: (sourceInfo as SourceInfo).width, height: (sourceInfo as SourceInfo).height } : null,
    meanMs: {
      preprocess: ms.preprocess / n,
      inference: ms.inference / n,
      render: stage.renderMs / Math.max(1, written),
      sinks: ms.sinks / Math.max(1, written),
      main: mainMs / Math.max(1, written),
    },
    workers: workers.count,
    wallMs,
    fps: written / (wallMs / 1000),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    flicker: flickerMeter.value,
    stabilize: renderer.settings.stabilize,
    interrupted,
    damage,
    warnings,
  };
}

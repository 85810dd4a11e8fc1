import { basename } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { DepthVideoError, errorText } from '../errors.js';
import { depthKindOf, detectFamily, readOnnxInfo, validateDepthIO, type OnnxInfo } from '../models/onnx-info.js';
import { pictureOf } from '../render/yuv-to-rgb.js';
import type { DepthKind, DepthMap, FrameImage, PreprocessSpec, RgbImage } from '../types.js';
import { chooseDevice, deviceLabel, type DeviceChoice, type DeviceEnv, type DeviceName } from './device.js';
import { fallbackReport, type FallbackNode } from './placement.js';
import { computeInputSize, imageToTensor } from './preprocess.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { takeInferenceWorker } from './spare-worker.js';
import { counted } from '../count.js';

export interface DepthSessionOptions {
  readonly device?: DeviceName;
  /** Intra-op threads; default: onnxruntime's choice (all cores). */
  readonly threads?: number;
  /** Replace parts of the detected preprocessing (flags such as --mean, --size). */
  readonly spec?: Partial<PreprocessSpec>;
  /** Called with a warning line (device fallback, nodes the GPU provider left to the CPU). */
  readonly onWarning?: (line: string) => void;
  /** What device choice looks at (tests fake backends and adapter probes). */
  readonly deviceEnv?: DeviceEnv;
}

export interface ModelDescription {
  readonly path: string;
  readonly label: string;
  readonly family: string;
  readonly spec: PreprocessSpec;
  /** Random or analytic weights: the output shows the pipeline working, not depth. */
  readonly untrained: boolean;
  /** Relative inverse depth, or metric depth in metres (larger = farther). */
  readonly output: DepthKind;
  readonly inputName: string;
  readonly outputName: string;
  /** Fixed input size of the graph, when it has one. */
  readonly fixedSize: { readonly width: number; readonly height: number } | null;
  readonly device: DeviceChoice;
  /** The device in one line, e.g. `webgpu (NVIDIA H200, Vulkan driver libGLX_nvidia.so.0)`. */
  readonly deviceLabel: string;
  readonly onnx: OnnxInfo;
}

/** A frame turned into the network's input tensor, ready to run. */
export interface PreparedInput {
  readonly tensor: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly preprocessMs: number;
}

export interface InferenceResult {
  /** The model's prediction at inference size. */
  readonly depth: DepthMap;
  readonly preprocessMs: number;
  readonly inferenceMs: number;
}

/** Starts the inference worker and waits for its model to load. */
async function startWorker(
  modelPath: string,
  device: DeviceChoice,
  threads: number | undefined,
): Promise<{ worker: Worker; ready: Extract<FromWorker, { kind: 'ready' }> } | { failure: string }> {
  const init: WorkerInit = { modelPath, providers: device.providers, threads, reportPlacement: device.device !== 'cpu' };
  // A spare started early has onnxruntime loaded already.
  const worker = takeInferenceWorker();
  worker.postMessage({ kind: 'init', init } satisfies ToWorker);
  const ready = await new Promise<FromWorker>((resolve, reject) => {
    const done = () => {
      worker.off('message', answer);
      worker.off('error', failed);
      worker.off('exit', stopped);
    };
    const answer = (m: FromWorker) => {
      if (m.kind === 'warm') return;
      done();
      resolve(m);
    };
    const failed = (e: Error) => {
      done();
      reject(e);
    };
    const stopped = (code: number) => failed(new Error(`the inference worker stopped (exit code ${code})`));
    worker.on('message', answer);
    worker.on('error', failed);
    worker.on('exit', stopped);
  }).catch((e: unknown) => ({ kind: 'init-error' as const, message: errorText(e) }));
  if (ready.kind === 'ready') return { worker, ready };
  await worker.terminate();
  // Both kinds of message went through errorText: one line already.
  return { failure: ready.kind === 'init-error' ? ready.message : 'no answer' };
}

/**
 * Input tensors kept for reuse. In sync mode every frame waiting for the
 * session is prepared ahead (on the frame workers), so as many are in flight
 * as frames are alive (4 plus one per worker); a pool smaller than that lets
 * tensors fall to the garbage collector and be allocated again every frame.
 */
const MAX_POOLED_INPUTS = 12;

interface Pending {
  resolve(r: InferenceResult): void;
  reject(e: unknown): void;
}

/**
 * One loaded depth model: frames in, relative inverse depth out. The network
 * runs in a worker thread, so the main thread keeps decoding, rendering and
 * serving while it computes.
 */
export class DepthSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private exited = false;
  /**
   * Input tensors come back from the worker after each run and are reused:
   * at 1080p a fresh one per frame would be 25 MB of garbage a frame.
   */
  private readonly tensorPool: Float32Array[] = [];
  /** Runs that returned a result. */
  private completed = 0;
  private fallback: readonly FallbackNode[] | null = null;

  private constructor(private readonly worker: Worker, readonly model: ModelDescription, onWarning: (line: string) => void) {
    const onGpu = model.device.device !== 'cpu';
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'placement') {
        this.fallback = m.cpuNodes;
        const line = m.cpuNodes ? fallbackReport(model.device.device, m.cpuNodes) : `could not tell which nodes ${model.device.device} left to the CPU (${m.error})`;
        if (line) onWarning(line);
        return;
      }
      if (m.kind !== 'result' && m.kind !== 'run-error') return;
      if (this.tensorPool.length < MAX_POOLED_INPUTS) this.tensorPool.push(m.tensor);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.kind === 'run-error') {
        p.reject(onGpu
          ? this.gpuFailure(`inference failed (${m.message})`)
          : new DepthVideoError('MODEL_INVALID', `${model.path}: inference failed (${m.message}); check the model or try --size with a multiple of ${model.spec.multipleOf}`, { file: model.path }));
      } else {
        this.completed++;
        p.resolve({ depth: { width: m.width, height: m.height, data: m.depth }, preprocessMs: m.preprocessMs, inferenceMs: m.inferenceMs });
      }
    });
    worker.on('error', (e) => this.failAll(onGpu ? this.gpuFailure(`the inference worker failed (${errorText(e)})`) : e));
    worker.on('exit', (code) => {
      this.exited = true;
      if (this.closed) return;
      this.failAll(onGpu
        ? this.gpuFailure(`the inference worker stopped (exit ${code})`)
        : new DepthVideoError('MODEL_INVALID', `${model.path}: the inference worker stopped (exit ${code}); the model may need more memory than is free`, { file: model.path }));
    });
  }

  /**
   * A GPU session that stops mid-run: a lost device (driver reset, GPU
   * removed, out of GPU memory) or a crashed driver. Nothing can be retried
   * on that device, so the run ends and its output so far is kept.
   */
  private gpuFailure(what: string): DepthVideoError {
    const when = this.completed ? `after ${counted(this.completed, 'frame')}` : 'on the first frame';
    return new DepthVideoError('DEVICE_LOST', `${this.model.deviceLabel}: ${what} ${when}: the GPU was lost or ran out of memory; check its driver, or rerun with --device cpu`, { file: this.model.path });
  }

  /** Nodes the GPU provider left to the CPU, known after the first run (null before, or on the CPU). */
  get cpuFallbackNodes(): readonly FallbackNode[] | null {
    return this.fallback;
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  static async open(path: string, opts: DepthSessionOptions = {}): Promise<DepthSession> {
    let device = await chooseDevice(opts.device ?? 'cpu', opts.deviceEnv);
    // onnxruntime opens the model on the worker's thread while this one reads its interface.
    let starting = startWorker(path, device, opts.threads);
    let info: OnnxInfo;
    let spec: PreprocessSpec;
    let fixedSize: { width: number; height: number } | null;
    let family: string;
    try {
      info = await readOnnxInfo(path);
      validateDepthIO(info);
      const detected = detectFamily(info, basename(path));
      family = detected.family;
      const dims = info.inputs[0]!.dims;
      const h = typeof dims[2] === 'number' && dims[2] > 0 ? dims[2] : null;
      const w = typeof dims[3] === 'number' && dims[3] > 0 ? dims[3] : null;
      fixedSize = h && w ? { width: w, height: h } : null;
      spec = { ...detected.spec, ...opts.spec };
      if (fixedSize) {
        if (opts.spec?.width !== undefined && (opts.spec.width !== fixedSize.width || opts.spec.height !== fixedSize.height)) {
          throw new DepthVideoError('USAGE', `${path} takes a fixed ${fixedSize.width}x${fixedSize.height} input: drop --size or use a model with dynamic height and width`, { file: path });
        }
        spec = { ...spec, width: fixedSize.width, height: fixedSize.height, keepAspect: false, native: false };
      }
    } catch (e) {
      // The file's own problem is the one to report, whatever onnxruntime makes of it.
      void starting.then((s) => ('worker' in s ? s.worker.terminate() : undefined));
      throw e;
    }
    const onWarning = opts.onWarning ?? (() => {});
    if (device.warning) onWarning(device.warning);
    let started = await starting;
    if ('failure' in started && device.requested === 'auto' && device.device !== 'cpu') {
      // auto never turns a GPU that will not start into a failed run.
      onWarning(`--device auto: ${deviceLabel(device)} did not start (${started.failure}), running on the CPU`);
      device = { ...(await chooseDevice('cpu')), requested: 'auto' };
      starting = startWorker(path, device, opts.threads);
      started = await starting;
    }
    if ('failure' in started) {
      if (device.device !== 'cpu') {
        throw new DepthVideoError('DEVICE', `${path}: onnxruntime cannot start it on ${deviceLabel(device)} (${started.failure}); rerun with --device cpu`, { file: path });
      }
      throw new DepthVideoError('MODEL_INVALID', `${path}: onnxruntime cannot load it (${started.failure}); check the file or re-download it`, { file: path });
    }
    const { worker, ready } = started;
    return new DepthSession(worker, {
      path,
      label: info.metadata['depth_video.name'] ?? basename(path, '.onnx'),
      family,
      spec,
      untrained: info.metadata['depth_video.untrained'] === 'true',
      output: depthKindOf(info),
      inputName: ready.inputNames[0]!,
      outputName: ready.outputNames[0]!,
      fixedSize,
      device,
      deviceLabel: deviceLabel(device),
      onnx: info,
    }, onWarning);
  }

  /** The network's input size for a frame of this size. */
  inputSize(width: number, height: number): { width: number; height: number } {
    const spec = this.model.spec;
    if (spec.native && !this.model.fixedSize) return { width, height };
    return computeInputSize(spec, width, height);
  }

  private send(msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<InferenceResult> {
    if (this.closed || this.exited) return Promise.reject(new DepthVideoError('MODEL_INVALID', `${this.model.path}: the session is closed or its worker stopped`));
    return new Promise((resolve, reject) => {
      this.pending.set((msg as { id: number }).id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Runs the bare network on an already prepared CHW tensor (benchmarks). The tensor is transferred. */
  async runTensor(tensor: Float32Array, width: number, height: number): Promise<InferenceResult> {
    return this.send({ kind: 'tensor', id: this.nextId++, tensor, width, height }, [tensor.buffer as ArrayBuffer]);
  }

  /** Gives back an input buffer taken with `inputBuffer` that was never run (a frame prepared ahead, then dropped). */
  returnInput(tensor: Float32Array): void {
    if (this.tensorPool.length < MAX_POOLED_INPUTS && !this.tensorPool.includes(tensor)) this.tensorPool.push(tensor);
  }

  /** A buffer for an input tensor of n floats, reused from earlier runs when one fits. */
  inputBuffer(n: number): Float32Array {
    const i = this.tensorPool.findIndex((t) => t.length === n);
    return i >= 0 ? this.tensorPool.splice(i, 1)[0]! : new Float32Array(n);
  }

  /**
   * Preprocesses a frame as the model's authors did, on the calling thread.
   * With `--sync` the scheduler calls this for the next frame while the
   * worker is still running the current one, so preprocessing costs no
   * inference time.
   */
  prepare(img: FrameImage): PreparedInput {
    const t0 = performance.now();
    const size = this.inputSize(img.width, img.height);
    const tensor = imageToTensor(img, this.model.spec, size, this.inputBuffer(3 * size.width * size.height));
    return { tensor, width: size.width, height: size.height, preprocessMs: performance.now() - t0 };
  }

  /** Runs a prepared input in the worker (the tensor is transferred, not copied). */
  async run(input: PreparedInput): Promise<InferenceResult> {
    const r = await this.runTensor(input.tensor, input.width, input.height);
    return { ...r, preprocessMs: input.preprocessMs };
  }

  /**
   * Preprocesses and runs one frame, both in the worker: the main thread only
   * copies the pixels, so it stays free for rendering and the live preview
   * (the async schedule's latency path).
   */
  infer(img: FrameImage): Promise<InferenceResult> {
    const size = this.inputSize(img.width, img.height);
    // Pixels in shared memory (the ffmpeg sources allocate frames so) are read
    // in place: a frame's slot only goes back to its source after the sinks,
    // long after inference. Anything else is copied.
    const shared = img.data.buffer instanceof SharedArrayBuffer;
    const image = pictureOf(shared ? img : { ...img, data: new Uint8Array(img.data) } as FrameImage);
    const tensor = this.inputBuffer(3 * size.width * size.height);
    const transfer = [tensor.buffer as ArrayBuffer];
    if (!shared) transfer.push(image.data.buffer as ArrayBuffer);
    return this.send({ kind: 'frame', id: this.nextId++, image, spec: this.model.spec, tensor, width: size.width, height: size.height }, transfer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.exited) return;
    this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
    const t = setTimeout(() => void this.worker.terminate(), 2000);
    await new Promise<void>((r) => this.worker.once('exit', () => r()));
    clearTimeout(t);
  }
}

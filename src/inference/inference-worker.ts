/**
 * The inference worker. onnxruntime-node's `run` executes synchronously on the
 * calling thread (its promise only defers the start), so on the main thread a
 * 300 ms inference would freeze decoding, pacing, encoding and the preview for
 * 300 ms. Here it blocks only this thread.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { errorText } from '../errors.js';
import { cpuFallbackNodes } from './placement.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { imageToTensor } from './preprocess.js';
import { float16ToFloat32Array, float32ToFloat16Array } from './float16.js';
import { warmModel } from './warm-model.js';

const port = parentPort!;

/** Test seam, honoured only under vitest: DEPTH_VIDEO_TEST_WARM_DELAY_MS=N holds the `warm` message back N ms, as a slow start would. */
const warmDelayMs = process.env.VITEST ? Number(process.env.DEPTH_VIDEO_TEST_WARM_DELAY_MS ?? 0) : 0;

/**
 * onnxruntime's first session in a process pays its one-time set-up (20-35
 * ms here; a second session of the same model opens in 1 ms). A spare
 * worker waits for its model anyway, so it pays that set-up on a model of
 * one Identity node (warm-model.ts) while it waits.
 */
const warmed: Promise<void> = ort.InferenceSession.create(warmModel())
  .then((s) => s.release(), () => undefined)
  .then(() => (warmDelayMs > 0 ? new Promise<void>((r) => setTimeout(r, warmDelayMs)) : undefined))
  // Ending this thread while onnxruntime loads or opens a session aborts the
  // whole process ("terminate called after throwing an instance of
  // 'Napi::Error'"): spare-worker.ts waits for this message.
  .then(() => post({ kind: 'warm' }));

let session: ort.InferenceSession | null = null;
let runs = 0;
let profileDir: string | null = null;

/**
 * Test seam, honoured only under vitest: DEPTH_VIDEO_TEST_GPU_LOSS=N makes
 * every run after the first N fail as runs on a lost GPU device do;
 * `N:exit` ends this worker instead, as a crashing driver would.
 */
const gpuLoss = process.env.VITEST ? /^(\d+)(:exit)?$/.exec(process.env.DEPTH_VIDEO_TEST_GPU_LOSS ?? '') : null;

/**
 * Bench seam: DEPTH_VIDEO_SIMULATE_DEVICE_MS=N blocks this thread N ms after
 * each run without using the CPU, as a synchronous run on a GPU does, so
 * that how the pipeline keeps a fast device busy can be measured on a
 * machine without one (src/bench/schedule-bench.ts). Unset outside benches.
 */
const simulatedDeviceMs = Number(process.env.DEPTH_VIDEO_SIMULATE_DEVICE_MS ?? 0);
const deviceWait = simulatedDeviceMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : null;

/** The nodes the first run executed on the CPU provider, from onnxruntime's profile of it. */
async function placement(): Promise<FromWorker> {
  try {
    await session!.endProfiling();
    const file = readdirSync(profileDir!).find((f) => f.endsWith('.json'));
    if (!file) return { kind: 'placement', cpuNodes: null, error: 'onnxruntime wrote no profile' };
    return { kind: 'placement', cpuNodes: cpuFallbackNodes(JSON.parse(readFileSync(join(profileDir!, file), 'utf8')) as unknown[]) };
  } catch (e) {
    return { kind: 'placement', cpuNodes: null, error: errorText(e) };
  } finally {
    rmSync(profileDir!, { recursive: true, force: true });
  }
}

/** An fp16 export without keep_io_types takes float16: frames are converted here, at the boundary. */
let halfInput = false;
/**
 * Half-float input buffers, reused. A run starts on a later tick
 * (setImmediate in onnxruntime-node), so the next frame's message can arrive
 * in between: each run holds its own buffer until it is done.
 */
const halfPool: Uint16Array[] = [];

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

async function run(tensor: Float32Array, width: number, height: number): Promise<{ data: Float32Array; width: number; height: number }> {
  const s = session!;
  if (gpuLoss && runs >= Number(gpuLoss[1])) {
    if (gpuLoss[2]) process.exit(1);
    throw new Error('WebGPU device lost (simulated by DEPTH_VIDEO_TEST_GPU_LOSS)');
  }
  const dims = [1, 3, height, width];
  let half: Uint16Array | undefined;
  let input: ort.Tensor;
  if (halfInput) {
    const i = halfPool.findIndex((b) => b.length === tensor.length);
    half = float32ToFloat16Array(tensor, i >= 0 ? halfPool.splice(i, 1)[0]! : new Uint16Array(tensor.length));
    input = new ort.Tensor('float16', half, dims);
  } else {
    input = new ort.Tensor('float32', tensor, dims);
  }
  try {
    const out = await s.run({ [s.inputNames[0]!]: input });
    if (deviceWait) Atomics.wait(deviceWait, 0, 0, simulatedDeviceMs);
    const t = out[s.outputNames[0]!]!;
    const d = t.dims;
    const data = t.type === 'float16' ? float16ToFloat32Array(t.data as Uint16Array) : (t.data as Float32Array);
    return { data, height: Number(d[d.length - 2]), width: Number(d[d.length - 1]) };
  } finally {
    if (half && halfPool.length < 3) halfPool.push(half);
  }
}

function transferable(a: Float32Array): Float32Array {
  // The result must own its buffer to be transferred without a copy.
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : a.slice();
}

// The model comes in the first message: this thread may have started before it was known (spare-worker.ts).
port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'init') {
    void open(msg.init);
    return;
  }
  if (msg.kind === 'close') {
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    void session?.release().finally(() => process.exit(0));
    if (!session) process.exit(0);
    return;
  }
  void (async () => {
    try {
      const t0 = performance.now();
      if (msg.kind === 'frame') {
        imageToTensor(msg.image, msg.spec, { width: msg.width, height: msg.height }, msg.tensor);
      }
      const t1 = performance.now();
      const r = await run(msg.tensor, msg.width, msg.height);
      const t2 = performance.now();
      if (++runs === 1 && profileDir) post(await placement());
      const depth = transferable(r.data);
      post({ kind: 'result', id: msg.id, depth, width: r.width, height: r.height, tensor: msg.tensor, preprocessMs: t1 - t0, inferenceMs: t2 - t1 },
        [depth.buffer as ArrayBuffer, msg.tensor.buffer as ArrayBuffer]);
    } catch (e) {
      post({ kind: 'run-error', id: msg.id, message: errorText(e), tensor: msg.tensor }, [msg.tensor.buffer as ArrayBuffer]);
    }
  })();
});

async function open(i: WorkerInit): Promise<void> {
  await warmed;
  try {
    if (i.reportPlacement) {
      profileDir = mkdtempSync(join(tmpdir(), 'depth-video-profile-'));
      // A GPU provider that fails to load logs its own multi-line error before
      // create() throws; the failure reaches the user as one line all the same.
      ort.env.logLevel = 'fatal';
    }
    session = await ort.InferenceSession.create(i.modelPath, {
      executionProviders: [...i.providers],
      graphOptimizationLevel: 'all',
      // On a GPU provider onnxruntime warns that "some nodes were not assigned"
      // on every start; the profile below says which ones, once, in one line.
      ...(profileDir ? { logSeverityLevel: 3 as const, enableProfiling: true, profileFilePrefix: join(profileDir, 'run') } : {}),
      // Spinning worker threads burn the cores that ffmpeg and the main thread
      // need between runs; on 2 cores turning it off was 300 -> 80 ms under load.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      ...(i.threads ? { intraOpNumThreads: i.threads, interOpNumThreads: 1 } : {}),
    });
    const meta = session.inputMetadata[0];
    halfInput = meta?.isTensor === true && meta.type === 'float16';
    post({ kind: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
  } catch (e) {
    post({ kind: 'init-error', message: errorText(e) });
  }
}

import { WebSocket } from 'ws';
import { RunControl } from '../pipeline/control.js';
import { runPipeline } from '../pipeline/run.js';
import { decodeFrameMessage } from '../preview/protocol.js';
import { startPreviewServer } from '../preview/server.js';
import { previewSink } from '../preview/sink.js';
import { webcamSource } from '../sources/webcam.js';

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Inferred {
  /** Wall time of the inference stage for this frame: preprocessing, the network, the hand-offs. */
  stageMs: number;
  networkMs: number;
  arrivedAfterMs: number | null;
}

/**
 * Capture-to-preview latency against inference time: a 640x360 30 fps lavfi
 * camera through dpt-tiny into the preview, received by a ws client in this
 * process (same clock as the capture stamps). For every inferred frame the
 * latency is capture -> its depth arriving at the client, and it is compared
 * with that same frame's inference time (target: latency <= inference + 50 ms).
 */
export async function liveLatencyBench(opts: { seconds?: number; model?: string } = {}): Promise<Record<string, number>> {
  const control = new RunControl('async');
  const hub = previewSink({ control, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true });
  const server = await startPreviewServer({ port: 0, hello: () => hub.hello(), onMessage: (m) => hub.onMessage(m) });
  hub.attach(server);
  const inferred = new Map<number, Inferred>(); // by capture time
  const inputLat: number[] = [];
  let measuring = false;
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.on('message', (d, bin) => {
    if (!bin || !measuring) return;
    const now = performance.now();
    const { header } = decodeFrameMessage(d as Buffer);
    if (header.part === 'input') {
      inputLat.push(now - header.captureTime);
      return;
    }
    const f = inferred.get(header.captureTime);
    if (f && f.arrivedAfterMs === null) f.arrivedAfterMs = now - header.captureTime;
  });
  await new Promise((r) => ws.once('open', r));
  const source = await webcamSource({ device: 'lavfi:testsrc2=size=640x360:rate=30' });
  const done = runPipeline({
    input: { kind: 'source', source, label: 'bench camera' },
    output: null,
    model: opts.model ?? 'dpt-tiny',
    sync: false,
    render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 },
    allowDownload: false,
    control,
    sinks: [hub],
    // Times each frame's inference as the pipeline runs it, keyed by its capture stamp.
    wrapInfer: (infer) => async (f) => {
      const t0 = performance.now();
      const r = await infer(f);
      if (measuring) inferred.set(f.captureTime, { stageMs: performance.now() - t0, networkMs: r.inferenceMs, arrivedAfterMs: null });
      return r;
    },
  });
  // The first second warms up onnxruntime and the encoder.
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const seconds = opts.seconds ?? 8;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  control.stop.next();
  const s = await done;
  measuring = false;
  ws.close();
  const seen = [...inferred.values()].filter((f) => f.arrivedAfterMs !== null);
  const latency = seen.map((f) => f.arrivedAfterMs!);
  return {
    live_depth_frames_measured: seen.length,
    live_inference_stage_ms_p50: percentile(seen.map((f) => f.stageMs), 50),
    live_network_ms_p50: percentile(seen.map((f) => f.networkMs), 50),
    live_depth_latency_ms_p50: percentile(latency, 50),
    live_depth_latency_ms_p95: percentile(latency, 95),
    // Per frame: its depth's latency minus its own inference time.
    live_latency_minus_inference_ms_p50: percentile(seen.map((f) => f.arrivedAfterMs! - f.stageMs), 50),
    live_latency_minus_inference_ms_p95: percentile(seen.map((f) => f.arrivedAfterMs! - f.stageMs), 95),
    live_latency_minus_network_ms_p50: percentile(seen.map((f) => f.arrivedAfterMs! - f.networkMs), 50),
    live_input_picture_latency_ms_p50: percentile(inputLat, 50),
    live_preview_depth_fps: seen.length / seconds,
    live_capture_frames: s.frames.read,
    live_inferred_frames: s.frames.inferred,
  };
}

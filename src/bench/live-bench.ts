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

/**
 * Capture-to-preview latency against inference time: a 640x360 30 fps lavfi
 * camera through dpt-tiny into the preview, received by a ws client in this
 * process (same clock as the capture stamps). `depth_latency` is the age of
 * the capture whose depth is on screen; the target is <= inference + 50 ms.
 */
export async function liveLatencyBench(opts: { seconds?: number; model?: string } = {}): Promise<Record<string, number>> {
  const control = new RunControl('async');
  const hub = previewSink({ control, render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' }, forwardLayout: true });
  const server = await startPreviewServer({ port: 0, hello: () => hub.hello(), onMessage: (m) => hub.onMessage(m) });
  hub.attach(server);
  const frameLat: number[] = [];
  const depthLat: number[] = [];
  const inferMs: number[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.on('message', (d, bin) => {
    if (!bin) return;
    const now = performance.now();
    const { header } = decodeFrameMessage(d as Buffer);
    frameLat.push(now - header.captureTime);
    // depthAgeMs was measured at send; add the hop to this client.
    depthLat.push(header.depthAgeMs + (now - header.captureTime - header.ageMs));
    if (header.stats.inferenceMs > 0) inferMs.push(header.stats.inferenceMs);
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
  });
  // The first second warms up onnxruntime and the encoder.
  await new Promise((r) => setTimeout(r, 1000));
  frameLat.length = 0; depthLat.length = 0; inferMs.length = 0;
  await new Promise((r) => setTimeout(r, (opts.seconds ?? 8) * 1000));
  control.stop.next();
  const s = await done;
  ws.close();
  const inference = percentile(inferMs, 50);
  const depthP50 = percentile(depthLat, 50);
  return {
    live_inference_ms_p50: inference,
    live_depth_latency_ms_p50: depthP50,
    live_depth_latency_ms_p95: percentile(depthLat, 95),
    live_frame_latency_ms_p50: percentile(frameLat, 50),
    live_latency_minus_inference_ms: depthP50 - inference,
    // The inference stage as the pipeline runs it: preprocessing + network.
    live_preprocess_ms_mean: s.meanMs.preprocess,
    live_latency_minus_inference_stage_ms: depthP50 - inference - s.meanMs.preprocess,
    live_preview_fps: frameLat.length / (opts.seconds ?? 8),
    live_capture_frames: s.frames.read,
    live_inferred_frames: s.frames.inferred,
  };
}

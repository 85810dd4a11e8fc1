/**
 * Run by probeWebGpu (gpu-probe.ts) in a child process with the Vulkan
 * loader's driver log on: starts a WebGPU session on a one-node graph, runs
 * it once and prints one JSON line. The adapter's identity is in the
 * loader's stderr, which the parent reads.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './generate/graph.js';
import type { ChildAnswer } from './gpu-probe.js';

function answer(a: ChildAnswer): void {
  process.stdout.write(JSON.stringify(a) + '\n');
}

try {
  const g = new GraphBuilder('webgpu-probe');
  const x = g.input('x', [4]);
  g.output(g.op('Add', [x, x]), 'y', [4]);
  const session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
  const y = out.y!.data as Float32Array;
  // A device that starts but computes garbage is of no use.
  if (y.join(',') !== '2,4,6,8') answer({ ok: false, message: `WebGPU computed ${y.join(',')} instead of 2,4,6,8` });
  else answer({ ok: true });
} catch (e) {
  answer({ ok: false, message: e instanceof Error ? e.message : String(e) });
}

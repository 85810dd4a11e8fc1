import { describe, expect, it } from 'vitest';
import type { DeviceEnv } from '../../src/inference/device.js';
import { analyticReference } from '../../src/inference/generate/analytic.js';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { cpuFallbackNodes, fallbackReport } from '../../src/inference/placement.js';
import { DepthSession } from '../../src/inference/session.js';
import { caught } from '../models/helpers.js';

/** A kernel event as onnxruntime's profiler writes it (fields trimmed to those read). */
function kernel(node: string, op: string, provider: string, inputs: string[], outputs: string[]) {
  const shapes = (types: string[]) => types.map((t) => ({ [t]: [1, 4] }));
  return { cat: 'Node', name: `${node}_kernel_time`, args: { op_name: op, provider, input_type_shape: shapes(inputs), output_type_shape: shapes(outputs) } };
}

describe('nodes a GPU provider left to the CPU', () => {
  const profile = [
    { cat: 'Session', name: 'model_loading_uri' },
    kernel('conv', 'Conv', 'WebGpuExecutionProvider', ['float'], ['float']),
    kernel('n_sizes', 'Concat', 'CPUExecutionProvider', ['int64', 'int64'], ['int64']),
    kernel('Gather_token_1', 'Gather', 'CPUExecutionProvider', ['int64', 'int64'], ['int64']),
    kernel('n_norm', 'MeanVarianceNormalization', 'CPUExecutionProvider', ['float'], ['float']),
    { cat: 'Node', name: 'n_norm_fence_before', args: { op_name: 'MeanVarianceNormalization', provider: 'CPUExecutionProvider' } },
    kernel('n_half', 'Erf', 'CPUExecutionProvider', ['float16'], ['float16']),
    // The same node again (a second run in the profile) counts once.
    kernel('n_norm', 'MeanVarianceNormalization', 'CPUExecutionProvider', ['float'], ['float']),
    kernel('n_cast', 'Cast', 'CPUExecutionProvider', ['int64'], ['float']),
  ];

  it('are the CPU nodes that touch floating-point data, once each; integer shape arithmetic is not one', () => {
    expect(cpuFallbackNodes(profile)).toEqual([
      { op: 'MeanVarianceNormalization', node: 'n_norm' },
      { op: 'Erf', node: 'n_half' },
      { op: 'Cast', node: 'n_cast' },
    ]);
    expect(cpuFallbackNodes([profile[2], profile[3]])).toEqual([]);
  });

  it('are reported in one line, grouped by op, long lists cut', () => {
    expect(fallbackReport('webgpu', [])).toBeNull();
    expect(fallbackReport('webgpu', cpuFallbackNodes(profile))).toBe(
      'webgpu has no kernel for 3 nodes, which onnxruntime runs on the CPU, copying its data across every frame: MeanVarianceNormalization (n_norm); Erf (n_half); Cast (n_cast)');
    const many = ['a', 'b', 'c', 'd', 'e'].map((n) => ({ op: 'Erf', node: n }));
    expect(fallbackReport('cuda', many)).toBe('cuda has no kernel for 5 nodes, which onnxruntime runs on the CPU, copying its data across every frame: Erf (a, b, c, …2 more)');
  });
});

describe('a GPU session that will not start', () => {
  // This onnxruntime-node lists CUDA; claiming its libraries are there makes
  // onnxruntime try, and fail, to load the provider: a GPU that cannot start.
  const cudaClaimed: DeviceEnv = {
    backends: [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: true }],
    platform: 'linux',
    probe: () => Promise.reject(new Error('auto takes CUDA without probing WebGPU')),
  };

  it('under --device auto falls back to the CPU with one warning, and runs', async () => {
    const path = await ensureGeneratedModel('analytic');
    const warnings: string[] = [];
    const s = await DepthSession.open(path, { device: 'auto', deviceEnv: cudaClaimed, onWarning: (l) => warnings.push(l) });
    try {
      expect(s.model.device).toMatchObject({ requested: 'auto', device: 'cpu', providers: ['cpu'] });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^--device auto: cuda did not start \(.+\), running on the CPU$/);
      const input = new Float32Array([0.3, 0.6, 0.9, 0.1, 0.7, 0.2]);
      const r = await s.runTensor(input.slice(), 2, 1);
      expect(Array.from(r.depth.data)).toEqual(Array.from(analyticReference(input, 2, 1)));
    } finally {
      await s.close();
    }
  });

  it('asked for explicitly is a DEVICE error naming the device and the way out', async () => {
    const path = await ensureGeneratedModel('analytic');
    const e = await caught(DepthSession.open(path, { device: 'cuda', deviceEnv: cudaClaimed }));
    expect(e.code).toBe('DEVICE');
    expect(e.message).toMatch(new RegExp(`^${path}: onnxruntime cannot start it on cuda \\(.+\\); rerun with --device cpu$`));
  });
});

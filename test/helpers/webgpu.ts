import { probeWebGpu, type AdapterProbe } from '../../src/inference/gpu-probe.js';
import { requireOrSkip } from './prerequisites.js';

/**
 * Whether this machine has a WebGPU adapter (any, software included: the
 * tests run on lavapipe). Where none exists the WebGPU tests skip and say
 * why, except under CI (CI=true), which installs lavapipe: there a missing
 * adapter fails the run instead of quietly skipping it (requireOrSkip).
 */
export const webgpuProbe: AdapterProbe = await probeWebGpu();
export const webgpu = requireOrSkip(
  `a WebGPU adapter (on Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1)${webgpuProbe.ok ? '' : `; the probe said ${webgpuProbe.reason} (${webgpuProbe.detail})`}`,
  webgpuProbe.ok,
);
export const webgpuStatus = webgpuProbe.ok ? `adapter ${webgpuProbe.adapter.name}` : 'no WebGPU adapter';

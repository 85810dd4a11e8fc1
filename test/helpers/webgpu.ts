import { probeWebGpu, type AdapterProbe } from '../../src/inference/gpu-probe.js';

/**
 * Whether this machine has a WebGPU adapter (any, software included: the
 * tests run on lavapipe). Where none exists the WebGPU tests skip and say
 * why, except under CI (CI=true), which installs lavapipe: there a missing
 * adapter must fail the run instead of quietly skipping it.
 */
export const webgpuProbe: AdapterProbe = await probeWebGpu();
export const skipWebGpu = !webgpuProbe.ok && process.env.CI !== 'true';
export const webgpuStatus = webgpuProbe.ok
  ? `adapter ${webgpuProbe.adapter.name}`
  : `SKIPPED, no WebGPU adapter: ${webgpuProbe.reason} (${webgpuProbe.detail})`;

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { probeWebGpu, type AdapterInfo, type AdapterProbe, type ProbeOptions } from './gpu-probe.js';

export type DeviceName = 'cpu' | 'cuda' | 'webgpu' | 'coreml' | 'dml' | 'auto';
/** A device a session actually runs on. */
export type ResolvedDevice = Exclude<DeviceName, 'auto'>;

export const DEVICE_NAMES: readonly DeviceName[] = ['auto', 'cpu', 'webgpu', 'cuda', 'coreml', 'dml'];

export interface BackendInfo {
  readonly name: string;
  /** Shipped inside the npm package (usable as is). */
  readonly bundled: boolean;
}

/**
 * The provider libraries a non-bundled backend needs on disk. onnxruntime-node
 * lists CUDA/TensorRT on Linux x64 even when their libraries were never
 * fetched (its install script skips them unless asked), so listing alone does
 * not mean usable.
 */
const PROVIDER_LIBS: Record<string, string> = {
  cuda: 'libonnxruntime_providers_cuda',
  tensorrt: 'libonnxruntime_providers_tensorrt',
};

function bindingDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const main = req.resolve('onnxruntime-node');
    return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

function libraryPresent(backend: string): boolean {
  const lib = PROVIDER_LIBS[backend];
  const dir = bindingDir();
  if (!lib || !dir || !existsSync(dir)) return false;
  return readdirSync(dir).some((f) => f.startsWith(lib));
}

/**
 * onnxruntime-node's own list. Loaded when first asked, not with this
 * module: the list comes from the native binding, and loading that on the
 * main thread at start-up would delay everything a run does first, while
 * a `--device cpu` run never needs it.
 */
let backends: readonly BackendInfo[] | null = null;
function supportedBackends(): readonly BackendInfo[] {
  backends ??= (createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node')).listSupportedBackends();
  return backends;
}

/** Backends that can actually run here. */
export function availableBackends(list: readonly BackendInfo[] = supportedBackends()): string[] {
  return list.filter((b) => b.bundled || libraryPresent(b.name)).map((b) => b.name);
}

/** The device a session runs on, and how it was chosen. */
export interface DeviceChoice {
  readonly requested: DeviceName;
  readonly device: ResolvedDevice;
  /** onnxruntime execution providers, best first; the CPU takes the nodes the GPU provider lacks. */
  readonly providers: readonly string[];
  /** The WebGPU adapter (webgpu only). */
  readonly adapter: AdapterInfo | null;
  /** One line for the user: a software adapter, or why `auto` fell back to the CPU. */
  readonly warning?: string;
}

/** What device choice looks at; tests pass fakes. */
export interface DeviceEnv {
  readonly backends: readonly BackendInfo[];
  readonly platform: NodeJS.Platform;
  probe(opts: ProbeOptions): Promise<AdapterProbe>;
}

function systemDeviceEnv(): DeviceEnv {
  return { get backends() { return supportedBackends(); }, platform: process.platform, probe: probeWebGpu };
}

const CUDA_HOW_TO = 'install CUDA 12 and cuDNN 9, then run `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12` (Linux x64 and Windows x64 only)';

const HOW_TO: Record<'cuda' | 'coreml' | 'dml' | 'webgpu', string> = {
  cuda: CUDA_HOW_TO,
  coreml: 'CoreML is only in the macOS builds of onnxruntime-node',
  dml: 'DirectML is only in the Windows builds of onnxruntime-node',
  webgpu: 'WebGPU is in the Linux x64, Windows and macOS builds of onnxruntime-node',
};

/** The one line shown for a device, e.g. `webgpu (NVIDIA H200, Vulkan driver libGLX_nvidia.so.0)`. */
export function deviceLabel(choice: Pick<DeviceChoice, 'device' | 'adapter'>): string {
  const a = choice.adapter;
  if (!a) return choice.device;
  const parts = [a.name];
  if (a.driver) parts.push(`Vulkan driver ${a.driver}`);
  if (a.software) parts.push('software, on the CPU');
  return `${choice.device} (${parts.join(', ')})`;
}

/** What to install when WebGPU found no adapter, per platform. */
function webgpuFix(probe: Extract<AdapterProbe, { ok: false }>, platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'WebGPU runs on Direct3D 12: update the GPU driver';
  if (platform === 'darwin') return 'WebGPU runs on Metal: it needs macOS 11 or later on a Mac with a GPU';
  switch (probe.reason) {
    case 'no-loader':
      return 'install the Vulkan loader and your GPU\'s Vulkan driver (Debian/Ubuntu: apt-get install libvulkan1 mesa-vulkan-drivers; Fedora: dnf install vulkan-loader mesa-vulkan-drivers; Arch: pacman -S vulkan-icd-loader plus vulkan-intel or vulkan-radeon; NVIDIA: the driver\'s own Vulkan support)';
    case 'no-driver':
      return 'install your GPU\'s Vulkan driver (mesa-vulkan-drivers for Intel and AMD, the NVIDIA driver for NVIDIA) or point VK_DRIVER_FILES at its ICD .json';
    case 'no-adapter':
      return 'Dawn needs Vulkan 1.1 and Mesa 23 or later (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers) or a current NVIDIA driver';
    default:
      return 'check the GPU driver';
  }
}

function probeText(probe: Extract<AdapterProbe, { ok: false }>): string {
  switch (probe.reason) {
    case 'no-loader': return `no Vulkan loader (${probe.detail})`;
    case 'no-driver': return `the Vulkan loader found no driver (${probe.detail})`;
    case 'no-adapter': return `no WebGPU adapter (${probe.detail})`;
    case 'no-gpu-node': return probe.detail;
    default: return `WebGPU did not start (${probe.detail})`;
  }
}

/**
 * Picks the execution providers for a --device choice.
 *
 * An explicit device that cannot start is an error (silently running a 10x
 * slower CPU job is worse); an explicit `webgpu` on a software adapter runs,
 * with a warning. `auto` takes CUDA when its libraries are present, then
 * WebGPU on a hardware adapter, then CoreML/DirectML, then the CPU with a
 * warning saying why. It never prefers a software adapter to the CPU: on 2
 * cores lavapipe ran dpt-tiny at 384x384 in 8.5-15 s a frame, the CPU
 * provider in 0.25-0.8 s (same run).
 */
export async function chooseDevice(requested: DeviceName, env: DeviceEnv = systemDeviceEnv()): Promise<DeviceChoice> {
  const on = (device: ResolvedDevice, adapter: AdapterInfo | null = null, warning?: string): DeviceChoice => ({
    requested,
    device,
    providers: device === 'cpu' ? ['cpu'] : [device, 'cpu'],
    adapter,
    ...(warning ? { warning } : {}),
  });
  if (requested === 'cpu') return on('cpu');
  const available = availableBackends(env.backends);

  if (requested === 'auto') {
    if (available.includes('cuda')) return on('cuda');
    let why = 'this onnxruntime-node has no WebGPU';
    if (available.includes('webgpu')) {
      const probe = await env.probe({ hardwareOnly: true });
      if (probe.ok && probe.adapter.software === false) return on('webgpu', probe.adapter);
      why = probe.ok
        ? probe.adapter.software
          ? `WebGPU found only ${probe.adapter.name}, a software renderer`
          : `WebGPU found ${probe.adapter.name}, which may be a software renderer`
        : `WebGPU: ${probeText(probe)}`;
    }
    for (const d of ['coreml', 'dml'] as const) if (available.includes(d)) return on(d);
    const cudaHint = env.backends.some((b) => b.name === 'cuda') ? `; for an NVIDIA GPU with CUDA: ${CUDA_HOW_TO}` : '';
    return on('cpu', null, `--device auto: no GPU found (${why}), running on the CPU${cudaHint}`);
  }

  if (!available.includes(requested)) {
    throw new DepthVideoError(
      'DEVICE',
      `--device ${requested}: the ${requested} execution provider is not available in this onnxruntime-node (available: ${available.join(', ')}); ${HOW_TO[requested]}, or use --device cpu`,
    );
  }
  if (requested !== 'webgpu') return on(requested);

  const probe = await env.probe({ hardwareOnly: false });
  if (!probe.ok) {
    throw new DepthVideoError('DEVICE', `--device webgpu: ${probeText(probe)}; ${webgpuFix(probe, env.platform)}, or use --device cpu`);
  }
  const warning = probe.adapter.software
    ? `--device webgpu: the adapter is ${probe.adapter.name}${probe.adapter.driver ? `, driver ${probe.adapter.driver}` : ''}: a software renderer running on the CPU, expect it to be slower than --device cpu`
    : undefined;
  return on('webgpu', probe.adapter, warning);
}

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listSupportedBackends } from 'onnxruntime-node';
import { DepthVideoError } from '../errors.js';

export type DeviceName = 'cpu' | 'cuda' | 'coreml' | 'dml' | 'auto';

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

/** Backends that can actually run here. */
export function availableBackends(list: readonly BackendInfo[] = listSupportedBackends()): string[] {
  return list.filter((b) => b.bundled || libraryPresent(b.name)).map((b) => b.name);
}

const HOW_TO: Record<Exclude<DeviceName, 'auto' | 'cpu'>, string> = {
  cuda: 'install CUDA 12 and cuDNN 9, then run `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` (Linux x64 and Windows x64 only)',
  coreml: 'CoreML is only in the macOS builds of onnxruntime-node',
  dml: 'DirectML is only in the Windows builds of onnxruntime-node',
};

/** Preference order for --device auto: the fastest first. */
const AUTO_ORDER: readonly Exclude<DeviceName, 'auto'>[] = ['cuda', 'coreml', 'dml', 'cpu'];

/**
 * Execution providers for a --device choice. An explicit device that is not
 * usable is an error (silently running a 10x slower CPU job is worse); `auto`
 * takes the best usable one and warns when that is the CPU.
 */
export function executionProvidersFor(
  device: DeviceName,
  list: readonly BackendInfo[] = listSupportedBackends(),
): { providers: string[]; warning?: string } {
  const available = availableBackends(list);
  if (device === 'cpu') return { providers: ['cpu'] };
  if (device === 'auto') {
    const best = AUTO_ORDER.find((d) => available.includes(d)) ?? 'cpu';
    if (best === 'cpu') {
      const listed = list.map((b) => b.name).filter((n) => n !== 'cpu' && !available.includes(n));
      const hint = listed.includes('cuda') ? `; for an NVIDIA GPU: ${HOW_TO.cuda}` : '';
      return { providers: ['cpu'], warning: `no GPU execution provider available (have: ${available.join(', ')}), running on the CPU${hint}` };
    }
    // CPU stays as fallback for the operators the GPU provider does not implement.
    return { providers: [best, 'cpu'] };
  }
  if (!available.includes(device)) {
    throw new DepthVideoError(
      'DEVICE',
      `execution provider ${device} is not available in this onnxruntime-node (available: ${available.join(', ')}); ${HOW_TO[device]}, or use --device cpu`,
    );
  }
  return { providers: [device, 'cpu'] };
}

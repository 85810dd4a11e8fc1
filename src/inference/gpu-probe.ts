/**
 * Which WebGPU adapter onnxruntime would get, learned without loading WebGPU
 * into this process.
 *
 * onnxruntime-node exposes no adapter information, and Dawn (its WebGPU
 * implementation) picks the adapter inside the native code. So a short-lived
 * child process (gpu-probe-child.js) starts a WebGPU session on a one-node
 * graph with the Vulkan loader's driver log on (VK_LOADER_DEBUG=driver); the
 * loader then names the device Dawn opened and its driver library:
 *
 *   DRIVER:   Using "llvmpipe (LLVM 15.0.6, 256 bits)" with driver: "libvulkan_lvp.so"
 *
 * and when Vulkan is missing, Dawn and the loader say why ("Couldn't load
 * Vulkan", "Found no drivers"). A broken driver can only take the child down.
 * Measured here (2 cores, lavapipe): about 240 ms a probe, against 64 ms for
 * a bare `node -e 0`. Scanning the ICD manifests instead costs under 1 ms but
 * cannot tell which device Dawn picks, nor whether a hardware driver has a
 * device behind it: Debian's mesa-vulkan-drivers installs the Intel, AMD,
 * virtio and lavapipe manifests on every machine.
 *
 * `--device auto` only wants a hardware adapter, which on Linux needs a
 * kernel device node (/dev/dri/renderD*, /dev/nvidia*, WSL's /dev/dxg); with
 * none there (containers, CI) the probe is skipped, at a cost of one readdir.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { builtScript } from '../paths.js';

export interface AdapterInfo {
  /** The device name as the driver reports it, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  readonly name: string;
  /** Driver library, e.g. "libvulkan_lvp.so"; null where the platform does not say (D3D12, Metal). */
  readonly driver: string | null;
  /** true: renders on the CPU (lavapipe, SwiftShader, WARP); null: not known (Windows). */
  readonly software: boolean | null;
}

export type ProbeFailure =
  /** Linux: libvulkan.so.1 is missing or unloadable. */
  | 'no-loader'
  /** The Vulkan loader found no driver (ICD manifest). */
  | 'no-driver'
  /** Drivers but no adapter Dawn accepts (e.g. Mesa 22, which lacks features Dawn requires). */
  | 'no-adapter'
  /** No GPU device node, so no hardware adapter can exist (probe skipped). */
  | 'no-gpu-node'
  /** The probe crashed, hung or answered nonsense. */
  | 'failed';

export type AdapterProbe =
  | { readonly ok: true; readonly adapter: AdapterInfo }
  | { readonly ok: false; readonly reason: ProbeFailure; readonly detail: string };

const SOFTWARE_NAME = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render/i;
const SOFTWARE_DRIVER = /lvp|swiftshader/i;

export function isSoftwareAdapter(name: string, driver: string | null): boolean {
  return SOFTWARE_NAME.test(name) || (driver !== null && SOFTWARE_DRIVER.test(driver));
}

/** What the probe child prints on stdout (one JSON line). */
export type ChildAnswer = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Reads a probe child's output: its JSON answer and its stderr, where the
 * Vulkan loader and Dawn write. `answer` is null when the child died first.
 */
export function parseProbe(answer: ChildAnswer | null, stderr: string, platform: NodeJS.Platform): AdapterProbe {
  const lines = stderr.split('\n');
  const dawn = lines.filter((l) => l.startsWith('Warning:')).map((l) => l.slice('Warning:'.length).trim());
  const used = [...stderr.matchAll(/Using "([^"\n]+)" with driver: "([^"\n]+)"/g)].pop();
  if (answer?.ok) {
    if (used) return { ok: true, adapter: { name: used[1]!, driver: basename(used[2]!), software: isSoftwareAdapter(used[1]!, used[2]!) } };
    // Metal has no software adapter; D3D12 has WARP, which the log cannot tell apart here.
    if (platform === 'darwin') return { ok: true, adapter: { name: 'Metal GPU', driver: null, software: false } };
    return { ok: true, adapter: { name: platform === 'win32' ? 'D3D12 adapter' : 'unknown adapter', driver: null, software: null } };
  }
  const loaderLine = dawn.find((l) => /couldn't load vulkan/i.test(l));
  if (loaderLine) return { ok: false, reason: 'no-loader', detail: loaderLine };
  const noDriver = dawn.find((l) => /found no drivers/i.test(l));
  if (noDriver) return { ok: false, reason: 'no-driver', detail: noDriver };
  if (answer && /adapter/i.test(answer.message)) {
    // Dawn's own reasons (a driver it refused) say more than "No supported adapters".
    const why = dawn.filter((l) => !/artificially reduced/.test(l));
    return { ok: false, reason: 'no-adapter', detail: why.length ? why.join('; ') : lastClause(answer.message) };
  }
  return { ok: false, reason: 'failed', detail: answer ? lastClause(answer.message) : 'the probe process died' };
}

/** onnxruntime's messages start with a source path and a failed check; the end says what happened. */
function lastClause(message: string): string {
  const m = /was false\.\s*(.*)$/s.exec(message);
  return (m ? m[1]! : message).split('\n')[0]!.trim();
}

/** Kernel device nodes a hardware GPU needs on Linux. */
export function gpuDeviceNodes(dev = '/dev'): string[] {
  const found: string[] = [];
  try {
    for (const f of readdirSync(join(dev, 'dri'))) if (f.startsWith('renderD')) found.push(join(dev, 'dri', f));
  } catch { /* no /dev/dri */ }
  try {
    for (const f of readdirSync(dev)) if (/^nvidia\d+$/.test(f) || f === 'dxg') found.push(join(dev, f));
  } catch { /* no /dev */ }
  return found;
}

export interface ProbeOptions {
  /** Only a hardware adapter is of use (--device auto): skip the probe where none can exist. */
  readonly hardwareOnly?: boolean;
  readonly timeoutMs?: number;
}

/** Starts WebGPU in a child process and reports the adapter it got. */
export async function probeWebGpu(opts: ProbeOptions = {}): Promise<AdapterProbe> {
  if (opts.hardwareOnly && process.platform === 'linux' && gpuDeviceNodes().length === 0) {
    return { ok: false, reason: 'no-gpu-node', detail: 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*)' };
  }
  const script = builtScript('inference/gpu-probe-child.js');
  if (!script || !existsSync(script)) return { ok: false, reason: 'failed', detail: 'the probe script is missing: run npm run build' };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, VK_LOADER_DEBUG: 'driver' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: 'failed', detail: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let answer: ChildAnswer | null = null;
      try {
        answer = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildAnswer;
      } catch { /* died before answering */ }
      const probe = parseProbe(answer, stderr, process.platform);
      if (!answer && probe.ok === false && probe.reason === 'failed') {
        resolve({ ok: false, reason: 'failed', detail: signal ? `the probe process was killed by ${signal}` : `the probe process exited with code ${code}` });
      } else resolve(probe);
    });
  });
}

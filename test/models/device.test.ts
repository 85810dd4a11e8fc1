import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableBackends, chooseDevice, deviceLabel, type BackendInfo, type DeviceEnv } from '../../src/inference/device.js';
import { gpuDeviceNodes, parseProbe, probeWebGpu, type AdapterProbe, type ProbeOptions } from '../../src/inference/gpu-probe.js';
import { tempDir } from '../helpers/media.js';
import { caught } from './helpers.js';
import { webgpu, webgpuProbe, webgpuStatus } from '../helpers/webgpu.js';

const LAVAPIPE = { name: 'llvmpipe (LLVM 15.0.6, 256 bits)', driver: 'libvulkan_lvp.so', software: true };
const H200 = { name: 'NVIDIA H200', driver: 'libGLX_nvidia.so.0', software: false };
const linuxBackends: BackendInfo[] = [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'cuda', bundled: false }, { name: 'tensorrt', bundled: false }];

/** A device environment with a canned probe answer that records how it was asked. */
function fakeEnv(probe: AdapterProbe, backends: BackendInfo[] = linuxBackends, platform: NodeJS.Platform = 'linux'): DeviceEnv & { calls: ProbeOptions[] } {
  const calls: ProbeOptions[] = [];
  return { backends, platform, calls, probe: async (o) => { calls.push(o); return probe; } };
}

const noNode: AdapterProbe = { ok: false, reason: 'no-gpu-node', detail: 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*)' };

describe('chooseDevice: --device auto', () => {
  it('takes CUDA when its libraries are there, without probing WebGPU', async () => {
    const env = fakeEnv({ ok: true, adapter: H200 }, [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'cuda', bundled: true }]);
    const c = await chooseDevice('auto', env);
    expect([c.device, c.providers, c.warning]).toEqual(['cuda', ['cuda', 'cpu'], undefined]);
    expect(env.calls).toEqual([]);
  });

  it('takes a hardware WebGPU adapter next, asking the probe for hardware only', async () => {
    const env = fakeEnv({ ok: true, adapter: H200 });
    const c = await chooseDevice('auto', env);
    expect([c.device, c.providers, c.adapter, c.warning]).toEqual(['webgpu', ['webgpu', 'cpu'], H200, undefined]);
    expect(env.calls).toEqual([{ hardwareOnly: true }]);
    expect(deviceLabel(c)).toBe('webgpu (NVIDIA H200, Vulkan driver libGLX_nvidia.so.0)');
  });

  it('never prefers a software adapter to the CPU, and says so in one line with the CUDA hint', async () => {
    const c = await chooseDevice('auto', fakeEnv({ ok: true, adapter: LAVAPIPE }));
    expect([c.device, c.providers, c.adapter]).toEqual(['cpu', ['cpu'], null]);
    expect(c.warning).toBe('--device auto: no GPU found (WebGPU found only llvmpipe (LLVM 15.0.6, 256 bits), a software renderer), running on the CPU; '
      + 'for an NVIDIA GPU with CUDA: install CUDA 12 and cuDNN 9, then run `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12` (Linux x64 and Windows x64 only)');
  });

  it('without a GPU device node falls back to the CPU, naming the reason', async () => {
    const c = await chooseDevice('auto', fakeEnv(noNode, [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }]));
    expect(c.device).toBe('cpu');
    expect(c.warning).toBe('--device auto: no GPU found (WebGPU: no GPU device node (/dev/dri/renderD*, /dev/nvidia*)), running on the CPU');
  });

  it('takes CoreML on a Mac and DirectML on Windows when WebGPU has no confirmed hardware adapter', async () => {
    const mac = await chooseDevice('auto', fakeEnv({ ok: false, reason: 'no-adapter', detail: 'No supported adapters' },
      [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'coreml', bundled: true }], 'darwin'));
    expect([mac.device, mac.providers, mac.warning]).toEqual(['coreml', ['coreml', 'cpu'], undefined]);
    // On Windows the log does not say whether the D3D12 adapter is WARP (software): DirectML picks the GPU itself.
    const win = await chooseDevice('auto', fakeEnv({ ok: true, adapter: { name: 'D3D12 adapter', driver: null, software: null } },
      [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'dml', bundled: true }], 'win32'));
    expect(win.device).toBe('dml');
  });
});

describe('chooseDevice: explicit devices', () => {
  it('cpu is the CPU, without probing', async () => {
    const env = fakeEnv({ ok: true, adapter: H200 });
    const c = await chooseDevice('cpu', env);
    expect([c.device, c.providers, c.adapter, c.warning]).toEqual(['cpu', ['cpu'], null, undefined]);
    expect(env.calls).toEqual([]);
  });

  it('webgpu on a hardware adapter runs without a warning; any adapter is probed for', async () => {
    const env = fakeEnv({ ok: true, adapter: H200 });
    const c = await chooseDevice('webgpu', env);
    expect([c.device, c.providers, c.warning]).toEqual(['webgpu', ['webgpu', 'cpu'], undefined]);
    expect(env.calls).toEqual([{ hardwareOnly: false }]);
  });

  it('webgpu on a software adapter runs, with a one-line warning', async () => {
    const c = await chooseDevice('webgpu', fakeEnv({ ok: true, adapter: LAVAPIPE }));
    expect(c.device).toBe('webgpu');
    expect(c.warning).toBe('--device webgpu: the adapter is llvmpipe (LLVM 15.0.6, 256 bits), driver libvulkan_lvp.so: a software renderer running on the CPU, expect it to be slower than --device cpu');
    expect(deviceLabel(c)).toBe('webgpu (llvmpipe (LLVM 15.0.6, 256 bits), Vulkan driver libvulkan_lvp.so, software, on the CPU)');
  });

  it('webgpu without a Vulkan loader is a DEVICE error saying what to install, never a CPU run', async () => {
    const e = await caught(chooseDevice('webgpu', fakeEnv({ ok: false, reason: 'no-loader', detail: "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file" })));
    expect(e.code).toBe('DEVICE');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe("--device webgpu: no Vulkan loader (Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file); "
      + "install the Vulkan loader and your GPU's Vulkan driver (Debian/Ubuntu: apt-get install libvulkan1 mesa-vulkan-drivers; Fedora: dnf install vulkan-loader mesa-vulkan-drivers; "
      + "Arch: pacman -S vulkan-icd-loader plus vulkan-intel or vulkan-radeon; NVIDIA: the driver's own Vulkan support), or use --device cpu");
  });

  it('webgpu with no driver or no usable adapter names the fix per case and platform', async () => {
    const noDriver = await caught(chooseDevice('webgpu', fakeEnv({ ok: false, reason: 'no-driver', detail: 'vkCreateInstance: Found no drivers!' })));
    expect(noDriver.message).toBe('--device webgpu: the Vulkan loader found no driver (vkCreateInstance: Found no drivers!); '
      + "install your GPU's Vulkan driver (mesa-vulkan-drivers for Intel and AMD, the NVIDIA driver for NVIDIA) or point VK_DRIVER_FILES at its ICD .json, or use --device cpu");
    const refused = await caught(chooseDevice('webgpu', fakeEnv({ ok: false, reason: 'no-adapter', detail: 'No supported adapters' })));
    expect(refused.message).toContain('Mesa 23 or later (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers)');
    const win = await caught(chooseDevice('webgpu', fakeEnv({ ok: false, reason: 'no-adapter', detail: 'No supported adapters' }, linuxBackends, 'win32')));
    expect(win.message).toBe('--device webgpu: no WebGPU adapter (No supported adapters); WebGPU runs on Direct3D 12: update the GPU driver, or use --device cpu');
  });

  it('a provider this build lacks is a DEVICE error with the fix', async () => {
    const cuda = await caught(chooseDevice('cuda', fakeEnv(noNode)));
    expect(cuda.message).toBe('--device cuda: the cuda execution provider is not available in this onnxruntime-node (available: cpu, webgpu); '
      + 'install CUDA 12 and cuDNN 9, then run `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12` (Linux x64 and Windows x64 only), or use --device cpu');
    await expect(chooseDevice('coreml', fakeEnv(noNode))).rejects.toThrow(/only in the macOS builds/);
    await expect(chooseDevice('webgpu', fakeEnv(noNode, [{ name: 'cpu', bundled: true }]))).rejects.toThrow(/WebGPU is in the Linux x64, Windows and macOS builds/);
  });

  it('the real onnxruntime-node offers cpu and webgpu', () => {
    expect(availableBackends()).toEqual(expect.arrayContaining(['cpu', 'webgpu']));
  });
});

describe('parseProbe reads the Vulkan loader and Dawn', () => {
  // Captured on this machine (lavapipe from bookworm-backports, loader 1.3.239) unless said otherwise.
  const usingLine = 'DRIVER | LAYER:          Using "llvmpipe (LLVM 15.0.6, 256 bits)" with driver: "libvulkan_lvp.so"';
  const noAdapter = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) '
    + 'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';

  it('names the device Dawn opened and sees that lavapipe is software', () => {
    const stderr = `INFO | DRIVER:               [0] llvmpipe (LLVM 15.0.6, 256 bits)\nWarning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16\n${usingLine}\n`;
    expect(parseProbe({ ok: true }, stderr, 'linux')).toEqual({ ok: true, adapter: LAVAPIPE });
    // Constructed from the loader's format: a hardware driver given as a full path.
    expect(parseProbe({ ok: true }, 'DRIVER:   Using "NVIDIA H200" with driver: "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0"', 'linux'))
      .toEqual({ ok: true, adapter: H200 });
    expect(parseProbe({ ok: true }, '', 'darwin')).toEqual({ ok: true, adapter: { name: 'Metal GPU', driver: null, software: false } });
    expect(parseProbe({ ok: true }, '', 'win32')).toEqual({ ok: true, adapter: { name: 'D3D12 adapter', driver: null, software: null } });
  });

  it('tells a missing loader, a missing driver, a refused adapter and a crash apart', () => {
    expect(parseProbe({ ok: false, message: noAdapter }, "Warning: Couldn't load Vulkan: /lib/x86_64-linux-gnu/libvulkan.so.1: file too short\n", 'linux'))
      .toEqual({ ok: false, reason: 'no-loader', detail: "Couldn't load Vulkan: /lib/x86_64-linux-gnu/libvulkan.so.1: file too short" });
    const noIcd = 'Warning: loader_get_json: Failed to open JSON file /nonexistent.json\nWarning: vkCreateInstance: Found no drivers!\nWarning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER\n';
    expect(parseProbe({ ok: false, message: noAdapter }, noIcd, 'linux')).toEqual({ ok: false, reason: 'no-driver', detail: 'vkCreateInstance: Found no drivers!' });
    // Constructed: Dawn's refusal of bookworm's Mesa 22 as the issue reports it.
    expect(parseProbe({ ok: false, message: noAdapter }, 'Warning: VK_ERROR: shaderUniformBufferArrayDynamicIndexing required\n', 'linux'))
      .toEqual({ ok: false, reason: 'no-adapter', detail: 'VK_ERROR: shaderUniformBufferArrayDynamicIndexing required' });
    expect(parseProbe({ ok: false, message: noAdapter }, '', 'linux')).toEqual({ ok: false, reason: 'no-adapter', detail: 'Failed to get a WebGPU adapter: No supported adapters' });
    expect(parseProbe(null, 'Segmentation fault', 'linux')).toEqual({ ok: false, reason: 'failed', detail: 'the probe process died' });
  });

  it('gpuDeviceNodes finds render nodes, NVIDIA devices and WSL\'s dxg, and nothing else', () => {
    const dev = tempDir('dv-dev-');
    expect(gpuDeviceNodes(dev)).toEqual([]);
    mkdirSync(join(dev, 'dri'));
    for (const f of ['dri/card0', 'nvidiactl', 'nvidia-uvm', 'video0']) writeFileSync(join(dev, f), '');
    expect(gpuDeviceNodes(dev)).toEqual([]);
    for (const f of ['dri/renderD128', 'nvidia0', 'dxg']) writeFileSync(join(dev, f), '');
    expect(gpuDeviceNodes(dev).sort()).toEqual([join(dev, 'dri', 'renderD128'), join(dev, 'dxg'), join(dev, 'nvidia0')]);
  });
});

webgpu.describe(`the real adapter probe (${webgpuStatus})`, () => {
  it('finds an adapter; lavapipe is reported as software with its driver', () => {
    expect(webgpuProbe.ok, JSON.stringify(webgpuProbe)).toBe(true);
    if (!webgpuProbe.ok) return;
    expect(webgpuProbe.adapter.name.length).toBeGreaterThan(0);
    if (/llvmpipe/.test(webgpuProbe.adapter.name)) expect(webgpuProbe.adapter).toMatchObject({ driver: 'libvulkan_lvp.so', software: true });
  });

  it('with the Vulkan loader pointed at no driver, reports no-driver', async () => {
    const saved = process.env.VK_DRIVER_FILES;
    process.env.VK_DRIVER_FILES = '/nonexistent/none_icd.json';
    try {
      const p = await probeWebGpu();
      expect(p).toMatchObject({ ok: false, reason: 'no-driver' });
    } finally {
      if (saved === undefined) delete process.env.VK_DRIVER_FILES;
      else process.env.VK_DRIVER_FILES = saved;
    }
  });
});

import { describe, expect, it } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { availableBackends, executionProvidersFor } from '../../src/inference/device.js';

const cpuOnly = [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: false }];

describe('executionProvidersFor', () => {
  it('cpu is always cpu', () => {
    expect(executionProvidersFor('cpu')).toEqual({ providers: ['cpu'] });
  });

  it('an unavailable explicit provider is a one-line DEVICE error with the fix', () => {
    try {
      executionProvidersFor('cuda', cpuOnly);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(DepthVideoError);
      const err = e as DepthVideoError;
      expect(err.code).toBe('DEVICE');
      expect(err.message).toContain('cuda');
      expect(err.message).toContain('available: cpu');
      expect(err.message).toContain('--onnxruntime-node-install=cuda12');
    }
    expect(() => executionProvidersFor('coreml', cpuOnly)).toThrow(/macOS/);
  });

  it('auto falls back to the CPU with a warning, or picks the GPU with CPU as fallback', () => {
    const r = executionProvidersFor('auto', cpuOnly);
    expect(r.providers).toEqual(['cpu']);
    expect(r.warning).toContain('CPU');
    expect(executionProvidersFor('auto', [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: true }])).toEqual({ providers: ['cuda', 'cpu'] });
  });

  it('the real onnxruntime-node offers the cpu backend', () => {
    expect(availableBackends()).toContain('cpu');
  });
});

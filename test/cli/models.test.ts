import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';

describe('models commands through the CLI', () => {
  it('models info on the generated DPT model shows its interface, size and family, and says it is untrained', async () => {
    const r = await runCli(['models', 'info', 'dpt-tiny']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/UNTRAINED/);
    expect(r.stdout).toMatch(/input:\s+image\s+float32\s+\[1, 3, H, W\]/);
    expect(r.stdout).toMatch(/output:\s+depth\s+float32\s+\[1, H, W\]/);
    expect(r.stdout).toMatch(/parameters:\s+2,063,443/);
    expect(r.stdout).toMatch(/family:\s+dpt-generated/);
    expect(r.stdout).toMatch(/multiple of 16/);
  });

  it('models list names the zoo with licences and marks the non-commercial ones', async () => {
    const r = await runCli(['models', 'list']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['midas-v21-small-256', 'dpt-large-384', 'depth-anything-v2-small', 'depth-anything-v2-large', 'midas-v31-beit-large-512']) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toMatch(/depth-anything-v2-large.*CC-BY-NC-4.0 \(non-commercial\)/);
  });

  it('an unknown model name lists the close names', async () => {
    const r = await runCli(['models', 'info', 'depth-anything-v2-smal']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown model "depth-anything-v2-smal": did you mean depth-anything-v2-small/);
  });

  it('an execution provider that is not installed is one clear line and exit 1', async () => {
    const dir = tempDir();
    const clip = makeClip(join(dir, 'c.mp4'), 'testsrc2=size=64x48:rate=5:duration=1');
    const r = await runCli([clip, '--out', join(dir, 'o.mp4'), '--model', 'analytic', '--device', 'coreml']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/^depth-video: --device coreml: the coreml execution provider is not available in this onnxruntime-node \(available: cpu[^)]*\); CoreML is only in the macOS builds of onnxruntime-node, or use --device cpu$/);
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertCheckpoint } from '../convert/index.js';
import { ensureGeneratedModel } from '../inference/generate/index.js';
import { packageRoot } from '../paths.js';
import { median } from './stats.js';

const REFERENCE = join(packageRoot, '..', 'shared', 'reference', 'depth-anything-v2-vits', 'depth_anything_v2_vits.pth');

/**
 * Conversion of the reference Depth-Anything-V2-Small checkpoint, and its
 * session.run time next to the generated dpt-vits14-518 (the same encoder
 * and decoder sizes) at the reference input size, 784x518. The two sessions
 * run in alternation so a slow patch of this shared machine hits both.
 */
export async function convertBench(out: (line: string) => void, opts: { runs?: number } = {}): Promise<void> {
  out('\n## checkpoint conversion (Depth-Anything-V2-Small reference checkpoint)');
  if (!existsSync(REFERENCE)) {
    out(`  skipped: ${REFERENCE} is absent`);
    return;
  }
  const runs = opts.runs ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'dv-bench-convert-'));
  try {
    const converted = join(dir, 'da2-vits.onnx');
    const seconds: number[] = [];
    for (let i = 0; i < 3; i++) seconds.push((await convertCheckpoint(REFERENCE, { out: converted, overwrite: true })).seconds);
    out(`  convert (hash, parse, build, stream 99 MB): median ${median(seconds).toFixed(2)} s of ${seconds.map((s) => s.toFixed(2)).join(', ')}`);

    const generated = await ensureGeneratedModel('dpt-vits14-518');
    const [h, w] = [518, 784];
    const input = new Float32Array(3 * h * w).map((_, i) => Math.sin(i / 97));
    const feeds = { image: new ort.Tensor('float32', input, [1, 3, h, w]) };
    const sessions = { converted: await ort.InferenceSession.create(converted), generated: await ort.InferenceSession.create(generated) };
    const ms: Record<keyof typeof sessions, number[]> = { converted: [], generated: [] };
    try {
      for (const s of Object.values(sessions)) await s.run(feeds); // warm-up
      for (let i = 0; i < runs; i++) {
        for (const k of ['converted', 'generated'] as const) {
          const t0 = performance.now();
          await sessions[k].run(feeds);
          ms[k].push(performance.now() - t0);
        }
      }
    } finally {
      await sessions.converted.release();
      await sessions.generated.release();
    }
    const [c, g] = [median(ms.converted), median(ms.generated)];
    out(`  session.run at ${w}x${h}, median of ${runs}: converted ${c.toFixed(0)} ms, generated dpt-vits14-518 ${g.toFixed(0)} ms (ratio ${(c / g).toFixed(2)})`);
    out(`  target: converted within noise of the generated model of the same architecture (ratio 0.8-1.25): ${c / g >= 0.8 && c / g <= 1.25 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

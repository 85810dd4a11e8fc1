import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeReferenceCheckpoint, writeTorchCheckpoint } from '../convert/checkpoint/index.js';
import { zeroSwinV2Checkpoint } from '../convert/swinv2/state-dict.js';
import { packageRoot } from '../paths.js';
import { convertInChild } from './convert-child.js';
import { median } from './stats.js';

const REFERENCE = join(packageRoot, '..', 'shared', 'reference', 'midas');

/**
 * One checkpoint per converter family and backbone, at the size each was
 * trained at: a reference state dict rebuilt from its keys.json, or, where
 * there is no reference (SwinV2-B/L 384), the full-size shapes with zero weights.
 */
const MODELS: readonly { readonly file: string; readonly size: number; readonly quick: boolean; readonly reference?: string; readonly write?: (path: string) => void }[] = [
  { reference: 'beit-base-384', file: 'dpt_beit_base_384.pt', size: 384, quick: true },
  { reference: 'dpt-hybrid-384', file: 'dpt_hybrid_384.pt', size: 384, quick: true },
  { reference: 'dpt-large-384', file: 'dpt_large_384.pt', size: 384, quick: false },
  { reference: 'swin2-tiny-256', file: 'dpt_swin2_tiny_256.pt', size: 256, quick: true },
  { reference: 'levit-224', file: 'dpt_levit_224.pt', size: 224, quick: true },
  { file: 'dpt_swin2_base_384.pt', size: 384, quick: false, write: (path) => writeTorchCheckpoint(path, zeroSwinV2Checkpoint('base')) },
];

/**
 * MiDaS v3.0/v3.1 checkpoints (rebuilt from ../shared/reference/midas keys.json,
 * the released files' keys and shapes; SwinV2-B from its shapes): conversion
 * time and peak RSS, and the converted model's session.run at its native size.
 * `quick`: BEiT-B, the hybrid, SwinV2-T and LeViT, one timed run each.
 */
export async function midasConvertBench(out: (line: string) => void, opts: { quick?: boolean } = {}): Promise<void> {
  out('\n## MiDaS v3.0 / v3.1 checkpoint conversion (reference state dicts, native size)');
  if (!existsSync(REFERENCE)) out(`  reference state dicts skipped: ${REFERENCE} is absent`);
  const runs = opts.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'dv-bench-midas-'));
  try {
    for (const m of MODELS.filter((x) => (x.quick || !opts.quick) && (x.reference === undefined || existsSync(REFERENCE)))) {
      const checkpoint = join(dir, m.file);
      if (m.reference !== undefined) writeReferenceCheckpoint(join(REFERENCE, m.reference, 'keys.json'), checkpoint);
      else m.write?.(checkpoint);
      const size = statSync(checkpoint).size;
      const onnx = join(dir, `${m.file}.onnx`);
      const c = convertInChild(checkpoint, onnx);
      rmSync(checkpoint);
      const limit = 2 * size + 200 * 2 ** 20;
      out(`  ${c.variant}: convert ${(size / 1e6).toFixed(0)} MB in ${c.seconds.toFixed(1)} s, peak RSS ${(c.peakRss / 2 ** 20).toFixed(0)} MB (target <= 2x file + 200 MB = ${(limit / 2 ** 20).toFixed(0)} MB: ${c.peakRss <= limit ? 'met' : 'NOT met'})`);

      const input = new Float32Array(3 * m.size * m.size).map((_, i) => Math.sin(i / 97));
      const feeds = { image: new ort.Tensor('float32', input, [1, 3, m.size, m.size]) };
      const session = await ort.InferenceSession.create(onnx);
      const ms: number[] = [];
      try {
        await session.run(feeds); // warm-up
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          await session.run(feeds);
          ms.push(performance.now() - t0);
        }
      } finally {
        await session.release();
      }
      rmSync(onnx);
      out(`  ${c.variant}: session.run at ${m.size}x${m.size}, median of ${runs}: ${median(ms).toFixed(0)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

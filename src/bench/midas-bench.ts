import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeReferenceCheckpoint, writeTorchCheckpoint } from '../convert/checkpoint/index.js';
import { convertCheckpoint } from '../convert/index.js';
import { SWINV2_SHAPES, zeroSwinV2Checkpoint } from '../convert/swinv2/state-dict.js';
import { packageRoot } from '../paths.js';

const MIDAS_REFERENCE = join(packageRoot, '..', 'shared', 'reference', 'midas');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A checkpoint to convert: where it comes from, and how to write it. */
interface Case {
  readonly label: string;
  readonly file: string;
  /** The model's fixed input side. */
  readonly size: number;
  readonly write: (path: string) => void;
}

/** Full-size SwinV2-B/L from their shapes, zero weights. */
function generatedSwin(model: 'base' | 'large'): Case {
  return {
    label: `SwinV2-${model === 'base' ? 'B' : 'L'} 384 (generated shapes, zero weights)`,
    file: `dpt_swin2_${model}_384.pt`,
    size: SWINV2_SHAPES[model].inputSize,
    write: (path) => writeTorchCheckpoint(path, zeroSwinV2Checkpoint(model)),
  };
}

function reference(name: string, file: string, size: number): Case {
  return { label: `${name} (reference weights from keys.json)`, file, size, write: (path) => void writeReferenceCheckpoint(join(MIDAS_REFERENCE, name, 'keys.json'), path) };
}

/**
 * Conversion time and session.run at the model's own fixed input for the
 * MiDaS v3.1 SwinV2 and LeViT families: SwinV2-T 256 and LeViT 224 from the
 * reference state dicts, SwinV2-B (and, without --quick, L) 384 from their
 * shapes. `npm run bench -- --only midas [--quick]`.
 */
export async function midasBench(out: (line: string) => void, opts: { quick?: boolean } = {}): Promise<void> {
  out('\n## MiDaS v3.1 SwinV2 / LeViT: checkpoint conversion and session.run at the native size');
  const runs = opts.quick ? 2 : 5;
  const cases: Case[] = [];
  if (existsSync(MIDAS_REFERENCE)) cases.push(reference('swin2-tiny-256', 'dpt_swin2_tiny_256.pt', 256), reference('levit-224', 'dpt_levit_224.pt', 224));
  else out(`  reference cases skipped: ${MIDAS_REFERENCE} is absent`);
  cases.push(generatedSwin('base'));
  if (!opts.quick) cases.push(generatedSwin('large'));
  const dir = mkdtempSync(join(tmpdir(), 'dv-bench-midas-'));
  try {
    for (const c of cases) {
      const ckpt = join(dir, c.file);
      const onnx = join(dir, 'model.onnx');
      c.write(ckpt);
      const r = await convertCheckpoint(ckpt, { out: onnx, overwrite: true });
      const mb = (statSync(ckpt).size / 2 ** 20).toFixed(0);
      const t0 = performance.now();
      const session = await ort.InferenceSession.create(onnx);
      const load = performance.now() - t0;
      const input = new Float32Array(3 * c.size * c.size).map((_, i) => Math.sin(i / 97));
      const feeds = { image: new ort.Tensor('float32', input, [1, 3, c.size, c.size]) };
      const ms: number[] = [];
      try {
        await session.run(feeds); // warm-up
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await session.run(feeds);
          ms.push(performance.now() - t);
        }
      } finally {
        await session.release();
      }
      out(`  ${r.variant}, ${c.label}: convert ${r.seconds.toFixed(1)} s (${mb} MB checkpoint, ${(r.parameterCount / 1e6).toFixed(1)}M parameters), session load ${(load / 1000).toFixed(1)} s`);
      out(`    session.run ${c.size}x${c.size}: median ${median(ms).toFixed(0)} ms of ${ms.map((m) => m.toFixed(0)).join(', ')}`);
      rmSync(ckpt, { force: true });
      rmSync(onnx, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

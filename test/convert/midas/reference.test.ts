import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { relativePositionIndex } from '../../../src/convert/beit/index.js';
import { readReferenceKeys, writeReferenceCheckpoint, type ComputedFill } from '../../../src/convert/checkpoint/index.js';
import { readOnnxMetadata } from '../../../src/inference/generate/metadata.js';
import { runCli, tempDir } from '../../helpers/media.js';
import { requireOrSkip } from '../../helpers/prerequisites.js';
import { MIDAS_REFERENCE } from '../helpers.js';
import { errorsAgainstReference } from '../midas-reference.js';
import { BEIT_B_384, DPT_HYBRID, DPT_LARGE, midasKeys, type MidasShape } from './state-dict.js';

const dir = tempDir('dv-midas-ref-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The stored buffers BEiT derives, as timm makes them (int64). */
const withIndex: ComputedFill = (k) => (k.key.endsWith('relative_position_index') ? BigInt64Array.from(relativePositionIndex(24, 24), (v) => BigInt(v)) : undefined);

interface Case {
  readonly label: string;
  readonly folder: string;
  /** The released file's name, as MiDaS's README links it. */
  readonly file: string;
  readonly shape: MidasShape;
  readonly variant: string;
  readonly family: string;
  readonly computed?: ComputedFill;
  /** Inputs to run (default: every input-*.npy). */
  readonly only?: string;
}

const CASES: Case[] = [
  { label: 'dpt-large-384', folder: 'dpt-large-384', file: 'dpt_large_384.pt', shape: DPT_LARGE, variant: 'midas-dpt-large-384', family: 'dpt' },
  { label: 'dpt-hybrid-384', folder: 'dpt-hybrid-384', file: 'dpt_hybrid_384.pt', shape: DPT_HYBRID, variant: 'midas-dpt-hybrid-384', family: 'dpt' },
  { label: 'beit-base-384', folder: 'beit-base-384', file: 'dpt_beit_base_384.pt', shape: BEIT_B_384, variant: 'midas-beit-base-384', family: 'beit-384' },
  // The same weights with the relative_position_index buffers stored: accepted, checked, same graph.
  { label: 'beit-base-384 with its relative_position_index buffers', folder: 'beit-base-384', file: 'dpt_beit_base_384.pt', shape: { ...BEIT_B_384, withIndex: true }, variant: 'midas-beit-base-384', family: 'beit-384', computed: withIndex, only: 'input-384x512.npy' },
];

const reference = requireOrSkip(`the MiDaS reference state dicts and outputs in ${MIDAS_REFERENCE}`, existsSync(MIDAS_REFERENCE));
reference.describe('MiDaS v3.0 ViT and v3.1 BEiT against the official outputs, converted through the CLI', () => {
  it.each(CASES)('$label: every official output to 1e-4 of its range', async (c) => {
    const ref = join(MIDAS_REFERENCE, c.folder);
    const keysJson = join(ref, 'keys.json');
    // The test's own key list, written from the official modules, is the reference's: same keys, shapes, order.
    const listed = readReferenceKeys(keysJson).keys.map((k) => ({ key: k.key, shape: k.shape }));
    const mine = midasKeys(c.shape).map((k) => ({ key: k.key, shape: k.shape }));
    expect(mine).toEqual(c.computed ? listed : listed.filter((k) => !k.key.endsWith('relative_position_index')));

    const work = mkdtempSync(join(dir, 'case-'));
    try {
      const ckpt = join(work, c.file);
      writeReferenceCheckpoint(keysJson, ckpt, { computed: c.computed });
      const onnx = join(work, 'model.onnx');
      const r = await runCli(['models', 'convert', ckpt, '--out', onnx], { timeoutMs: 900_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^converted ${c.file.replace('.', '\\.')}: ${c.variant} \\(from the keys and shapes\\), .* parameters, [\\d.]+ s -> `));
      rmSync(ckpt);
      const meta = readOnnxMetadata(onnx);
      expect(meta['depth_video.family']).toBe(c.family);
      expect(meta['depth_video.variant']).toBe(c.variant);

      const errors = await errorsAgainstReference(c.folder, onnx, c.only);
      expect(Object.keys(errors).length).toBeGreaterThan(0);
      for (const [file, err] of Object.entries(errors)) expect(err, `${c.folder} ${file}`).toBeLessThanOrEqual(1e-4);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 1_800_000);
});

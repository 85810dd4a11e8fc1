import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { encodePngRgb8, PhotoDepth } from '../../src/preview/photo.js';
import { randomEntries, type MidasShape } from '../convert/midas/state-dict.js';

/** A ViT-B-deep MiDaS DPT small enough to convert in a second. */
const SMALL_VIT: MidasShape = { encoder: 'vit', embedDim: 64, depth: 12, grid: 4, features: 16, maps: [8, 16, 32, 32] };

const root = mkdtempSync(join(tmpdir(), 'dv-photo-note-'));
const modelsBefore = process.env.DEPTH_VIDEO_MODELS;
afterAll(() => {
  if (modelsBefore === undefined) delete process.env.DEPTH_VIDEO_MODELS;
  else process.env.DEPTH_VIDEO_MODELS = modelsBefore;
  rmSync(root, { recursive: true, force: true });
});

describe('photo mode with a checkpoint as its model', () => {
  it('says it converts the checkpoint as a note, not as a warning, and then infers', async () => {
    process.env.DEPTH_VIDEO_MODELS = join(root, 'models');
    const ckpt = join(root, 'dpt_small.pt');
    writeTorchCheckpoint(ckpt, randomEntries(SMALL_VIT, 3));
    const notes: string[] = [];
    const warnings: string[] = [];
    const photos = new PhotoDepth({ model: ckpt, allowDownload: false, onNote: (l) => notes.push(l), onWarning: (l) => warnings.push(l) });
    try {
      const png = await encodePngRgb8({ width: 32, height: 24, data: new Uint8Array(32 * 24 * 3).map((_, i) => (i * 5) & 255) });
      const r = await photos.process(png, { colormap: 'gray', invert: false, highContrast: false });
      expect([r.width, r.height]).toEqual([32, 24]);
      expect(notes[0]).toBe(`converting ${ckpt} to ONNX on first use (cached as ${join(root, 'models', 'converted')}/${notes[0]!.match(/([0-9a-f]{64})\.onnx\)$/)?.[1]}.onnx)`);
      expect(notes[1]).toMatch(/^converted: midas-dpt-base-64 \(from the keys and shapes\)/);
      expect(warnings).toEqual([]);
    } finally {
      await photos.close();
    }
  });
});

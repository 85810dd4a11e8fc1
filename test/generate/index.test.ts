import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDepthVideoError } from '../../src/errors.js';
import { decodeMetadata } from '../../src/inference/generate/graph.js';
import {
  ensureGeneratedModel,
  GENERATED_MODELS,
  HASH_KEY,
  isGeneratedModelName,
  readOnnxMetadata,
  recipeHash,
} from '../../src/inference/generate/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dv-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generated model registry', () => {
  it('knows the four names', () => {
    expect(Object.keys(GENERATED_MODELS).sort()).toEqual(['analytic', 'analytic-slow', 'dpt-tiny', 'dpt-vits14-518']);
    expect(isGeneratedModelName('dpt-tiny')).toBe(true);
    expect(isGeneratedModelName('midas-small')).toBe(false);
    expect(isGeneratedModelName('toString')).toBe(false);
  });

  it('writes once, keeps a current file and rebuilds a stale one', async () => {
    const path = await ensureGeneratedModel('analytic', dir);
    expect(path).toBe(join(dir, 'analytic.onnx'));
    const meta = decodeMetadata(readFileSync(path));
    expect(meta[HASH_KEY]).toBe(recipeHash('analytic'));
    expect(meta['depth_video.family']).toBe('analytic');
    // The streaming reader sees the same metadata as a full decode.
    expect(readOnnxMetadata(path)).toEqual(meta);

    const mtime = statSync(path).mtimeMs;
    expect(await ensureGeneratedModel('analytic', dir)).toBe(path);
    expect(statSync(path).mtimeMs).toBe(mtime);

    writeFileSync(path, 'not a model');
    await ensureGeneratedModel('analytic', dir);
    expect(readOnnxMetadata(path)[HASH_KEY]).toBe(recipeHash('analytic'));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('different recipes hash differently', () => {
    const hashes = new Set(Object.keys(GENERATED_MODELS).map((n) => recipeHash(n as keyof typeof GENERATED_MODELS)));
    expect(hashes.size).toBe(4);
  });

  it('concurrent callers all get a complete file', async () => {
    const paths = await Promise.all([1, 2, 3].map(() => ensureGeneratedModel('analytic-slow', join(dir, 'c'))));
    expect(new Set(paths).size).toBe(1);
    expect(readOnnxMetadata(paths[0])[HASH_KEY]).toBe(recipeHash('analytic-slow'));
  });

  it('refuses unknown names with a DepthVideoError', async () => {
    const err = await ensureGeneratedModel('nope', dir).catch((e: unknown) => e);
    expect(isDepthVideoError(err) && err.code).toBe('MODEL_UNKNOWN');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { modelsInfo, modelsList, modelsPull, modelsVerify } from '../../src/models/commands.js';
import type { Manifest, ManifestEntry } from '../../src/models/manifest.js';
import { resolveModel } from '../../src/models/resolve.js';
import { writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';
import { randomStateDict } from '../convert/depth-anything/state-dict.js';
import { sink, startBlobServer } from './helpers.js';

const blob = randomBytes(50_000);
const sha = createHash('sha256').update(blob).digest('hex');
let server: Awaited<ReturnType<typeof startBlobServer>>;
let manifest: Manifest;
const root = mkdtempSync(join(tmpdir(), 'dv-resolve-'));

function entry(name: string, extra: Partial<ManifestEntry>): ManifestEntry {
  return { name, family: 'depth-anything', url: null, sizeBytes: null, sha256: null, license: 'MIT', restricted: false, spec: FAMILY_SPECS['depth-anything'], ...extra };
}

/** A small V1-shaped Depth-Anything checkpoint, as a pytorch-only entry's release file. */
function smallCheckpoint(): Buffer {
  const path = join(root, 'small.pth');
  const dict = randomStateDict({ embedDim: 384, depth: 4, posGrid: 4, features: 16, outChannels: [8, 16, 32, 32] });
  writeTorchCheckpoint(path, [...dict].map(([key, t]) => ({ key, dtype: 'float32' as const, shape: t.shape, data: t.values })), { overwrite: true });
  return readFileSync(path);
}

beforeAll(async () => {
  server = await startBlobServer(blob, 0, { '/releases/depth_anything_vits14.pth': smallCheckpoint() });
  manifest = {
    manifestVersion: 1,
    models: [
      entry('good-model', { url: `${server.base}/blob`, sha256: sha, sizeBytes: blob.length }),
      entry('bad-sum', { url: `${server.base}/blob`, sha256: '00'.repeat(32) }),
      entry('nc-model', { url: `${server.base}/blob`, license: 'CC-BY-NC-4.0', restricted: true, restrictedReason: 'non-commercial only' }),
      entry('export-only', {}),
      entry('pytorch-only', { pytorchUrl: `${server.base}/releases/depth_anything_vits14.pth` }),
    ],
  };
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('resolveModel', () => {
  it('pulls a manifest name into the folder, then finds it without a request', async () => {
    const dir = join(root, 'a');
    const r = await resolveModel('good-model', { allowDownload: true, dir, manifest });
    expect(r.path).toBe(join(dir, 'good-model.onnx'));
    expect(readFileSync(r.path).equals(blob)).toBe(true);
    const before = server.seen.length;
    const again = await resolveModel('good-model', { allowDownload: false, dir, manifest });
    expect(again.path).toBe(r.path);
    expect(again.entry?.name).toBe('good-model');
    expect(server.seen.length).toBe(before);
  });

  it('a name that is not downloaded and may not be is MODEL_MISSING with the pull command', async () => {
    await expect(resolveModel('good-model', { allowDownload: false, dir: join(root, 'b'), manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining('depth-video models pull good-model'),
    });
  });

  it('an entry with neither ONNX nor checkpoint says to export one', async () => {
    await expect(resolveModel('export-only', { allowDownload: true, dir: join(root, 'c'), manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringMatching(/^no ONNX file is published for export-only: export the official checkpoint to ONNX and save it as .*export-only\.onnx$/),
    });
  });

  it('an entry published only as a PyTorch checkpoint is pulled and converted into the cache, then found without a request', async () => {
    const dir = join(root, 'pt');
    await expect(resolveModel('pytorch-only', { allowDownload: false, dir, manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining(`run \`depth-video models pull pytorch-only\` (it downloads ${server.base}/releases/depth_anything_vits14.pth and converts it to ONNX)`),
    });
    const notes: string[] = [];
    const r = await resolveModel('pytorch-only', { allowDownload: true, dir, manifest, onWarning: (l) => notes.push(l) });
    expect(r.fetched).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'depth_anything_vits14.pth'))).toBe(true);
    expect(r.path).toMatch(new RegExp(`^${join(dir, 'converted').replace(/[.]/g, '\\.')}/[0-9a-f]{64}\\.onnx$`));
    expect(readOnnxMetadata(r.path)['depth_video.variant']).toBe('depth-anything-v1');
    expect(notes.join('\n')).toMatch(/converting .*depth_anything_vits14\.pth to ONNX on first use/);

    const requests = server.seen.length;
    const again = await resolveModel('pytorch-only', { allowDownload: false, dir, manifest });
    expect(again).toMatchObject({ path: r.path, fetched: false });
    expect(server.seen.length).toBe(requests);
  });

  it('an unknown name lists the close names', async () => {
    const real = await resolveModel('depth-anything-v2-smal', { allowDownload: false }).catch((e: unknown) => e);
    expect(real).toMatchObject({ code: 'MODEL_UNKNOWN', message: expect.stringContaining('depth-anything-v2-small') });
    const sub = await resolveModel('midas', { allowDownload: false }).catch((e: unknown) => e);
    expect((sub as Error).message).toContain('midas-v21-small-256');
    expect((sub as Error).message).not.toContain('depth-anything-v2-base');
    const gen = await resolveModel('analytc', { allowDownload: false, manifest }).catch((e: unknown) => e);
    expect((gen as Error).message).toContain('analytic');
  });

  it('paths: an existing file is used as is, a missing .onnx is MODEL_MISSING', async () => {
    const file = join(root, 'mine.onnx');
    writeFileSync(file, 'x');
    expect((await resolveModel(file, { allowDownload: false, manifest })).path).toBe(file);
    await expect(resolveModel(join(root, 'nope.onnx'), { allowDownload: false, manifest })).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });

  it('a restricted model warns with its licence when pulled', async () => {
    const warnings: string[] = [];
    await resolveModel('nc-model', { allowDownload: true, dir: join(root, 'd'), manifest, onWarning: (l) => warnings.push(l) });
    expect(warnings.join('\n')).toContain('non-commercial');
  });

  it('generated names are built by the generator', async () => {
    const r = await resolveModel('analytic', { allowDownload: false, dir: join(root, 'g'), manifest });
    expect(r.entry).toBeNull();
    expect(existsSync(r.path)).toBe(true);
  });
});

describe('models commands', () => {
  it('pull reports the verified file; a bad checksum throws CHECKSUM and leaves nothing', async () => {
    const dir = join(root, 'p');
    const out = sink();
    const err = sink();
    expect(await modelsPull('good-model', { dir, manifest, out: out.stream, err: err.stream as unknown as NodeJS.WriteStream })).toBe(0);
    expect(out.text()).toContain('sha256 verified');
    expect(err.text()).toContain('100%');
    await expect(modelsPull('bad-sum', { dir, manifest, out: out.stream, err: err.stream as unknown as NodeJS.WriteStream })).rejects.toMatchObject({ code: 'CHECKSUM' });
    expect(existsSync(join(dir, 'bad-sum.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'bad-sum.onnx.partial'))).toBe(false);
  });

  it('list shows status per entry; verify flags a tampered file', async () => {
    const dir = join(root, 'v');
    await resolveModel('good-model', { allowDownload: true, dir, manifest });
    const list = sink();
    await modelsList({ json: true, dir, manifest }, list.stream);
    const rows = JSON.parse(list.text()).models as { name: string; status: string }[];
    expect(rows.find((r) => r.name === 'good-model')?.status).toBe('present');
    expect(rows.find((r) => r.name === 'export-only')?.status).toBe('export-needed');
    expect(rows.find((r) => r.name === 'pytorch-only')).toMatchObject({ status: 'missing', source: 'pytorch', input: '>=518, keep aspect, x14' });

    const ok = sink();
    expect(await modelsVerify({ dir, manifest, out: ok.stream })).toBe(0);
    expect(ok.text()).toContain('good-model: OK');
    writeFileSync(join(dir, 'good-model.onnx'), Buffer.from('tampered'));
    await expect(modelsVerify({ dir, manifest, out: sink().stream })).rejects.toMatchObject({ code: 'CHECKSUM' });
  });

  it('pull of a PyTorch-only entry says what it converted from', async () => {
    const dir = join(root, 'ptp');
    const out = sink();
    const err = sink();
    expect(await modelsPull('pytorch-only', { dir, manifest, out: out.stream, err: err.stream as unknown as NodeJS.WriteStream })).toBe(0);
    expect(out.text()).toMatch(/^pytorch-only: .*converted\/[0-9a-f]{64}\.onnx \([\d.]+ MB, no published checksum to verify, converted from .*checkpoints\/depth_anything_vits14\.pth\)\n$/);
  });

  it('list shows how each shipped model sizes its input: a fixed square squashed, or keep aspect to a multiple', async () => {
    const out = sink();
    await modelsList({ dir: join(root, 'empty') }, out.stream);
    const text = out.text();
    expect(text).toMatch(/^NAME +FAMILY +INPUT +STATUS +SIZE +LICENCE$/m);
    expect(text).toMatch(/^midas-v31-swin2-tiny-256 +swin2-256 +fixed 256x256, squashed +missing .*\[PyTorch checkpoint, converted on pull\]/m);
    expect(text).toMatch(/^midas-v31-levit-224 +levit-224 +fixed 224x224, squashed +missing /m);
    expect(text).toMatch(/^midas-v31-swin2-large-384 +swin2-384 +fixed 384x384, squashed +missing /m);
    expect(text).toMatch(/^dpt-large-384 +dpt +~384, keep aspect, x32 +missing /m);
    expect(text).toMatch(/^depth-anything-v2-small +depth-anything +>=518, keep aspect, x14 +missing /m);
  });

  it('info marks a generated model as untrained and prints its interface', async () => {
    const out = sink();
    expect(await modelsInfo('analytic', { dir: join(root, 'g'), manifest, out: out.stream })).toBe(0);
    const text = out.text();
    expect(text).toContain('UNTRAINED');
    expect(text).toMatch(/input:\s+image\s+float32\s+\[1, 3, H, W\]/);
    expect(text).toContain('ai.onnx 17');
    expect(text).toContain('family:      analytic (from metadata)');
  });
});

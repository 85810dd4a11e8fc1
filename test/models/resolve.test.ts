import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { modelsInfo, modelsList, modelsPull, modelsVerify } from '../../src/models/commands.js';
import type { Manifest, ManifestEntry } from '../../src/models/manifest.js';
import { resolveModel } from '../../src/models/resolve.js';
import { sink, startBlobServer } from './helpers.js';

const blob = randomBytes(50_000);
const sha = createHash('sha256').update(blob).digest('hex');
let server: Awaited<ReturnType<typeof startBlobServer>>;
let manifest: Manifest;
const root = mkdtempSync(join(tmpdir(), 'dv-resolve-'));

function entry(name: string, extra: Partial<ManifestEntry>): ManifestEntry {
  return { name, family: 'depth-anything', url: null, sizeBytes: null, sha256: null, license: 'MIT', restricted: false, spec: FAMILY_SPECS['depth-anything'], ...extra };
}

beforeAll(async () => {
  server = await startBlobServer(blob);
  manifest = {
    manifestVersion: 1,
    models: [
      entry('good-model', { url: `${server.base}/blob`, sha256: sha, sizeBytes: blob.length }),
      entry('bad-sum', { url: `${server.base}/blob`, sha256: '00'.repeat(32) }),
      entry('nc-model', { url: `${server.base}/blob`, license: 'CC-BY-NC-4.0', restricted: true, restrictedReason: 'non-commercial only' }),
      // MiDaS v2.1's MidasNet: no converter family makes its checkpoints into ONNX.
      entry('export-only', { family: 'midas-v21', pytorchUrl: 'https://example.invalid/w.pt' }),
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

  it('an entry without ONNX whose checkpoint cannot be converted says to export it', async () => {
    await expect(resolveModel('export-only', { allowDownload: true, dir: join(root, 'c'), manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: `no ONNX file is published for export-only: depth-video cannot convert midas-v21 checkpoints yet: export https://example.invalid/w.pt to ONNX and save it as ${join(root, 'c', 'export-only.onnx')}`,
    });
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

    const ok = sink();
    expect(await modelsVerify({ dir, manifest, out: ok.stream })).toBe(0);
    expect(ok.text()).toContain('good-model: OK');
    writeFileSync(join(dir, 'good-model.onnx'), Buffer.from('tampered'));
    await expect(modelsVerify({ dir, manifest, out: sink().stream })).rejects.toMatchObject({ code: 'CHECKSUM' });
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

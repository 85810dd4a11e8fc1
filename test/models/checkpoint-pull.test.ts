import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';
import { modelsList, modelsPull, modelsVerify } from '../../src/models/commands.js';
import type { Manifest, ManifestEntry } from '../../src/models/manifest.js';
import { resolveModel } from '../../src/models/resolve.js';
import { randomEntries, type MidasShape } from '../convert/midas/state-dict.js';
import { sink, startBlobServer } from './helpers.js';

/** A ViT-B-deep MiDaS DPT small enough to convert in a second. */
const SMALL_VIT: MidasShape = { encoder: 'vit', embedDim: 64, depth: 12, grid: 4, features: 16, maps: [8, 16, 32, 32] };

const root = mkdtempSync(join(tmpdir(), 'dv-ckpt-pull-'));
let server: Awaited<ReturnType<typeof startBlobServer>>;
let manifest: Manifest;
let ckpt: Buffer;
let sha: string;

function row(name: string, extra: Partial<ManifestEntry>): ManifestEntry {
  return { name, family: 'dpt', url: null, sizeBytes: null, sha256: null, license: 'MIT', restricted: false, spec: FAMILY_SPECS.dpt, ...extra };
}

beforeAll(async () => {
  const file = join(root, 'dpt_small.pt');
  writeTorchCheckpoint(file, randomEntries(SMALL_VIT, 2));
  ckpt = readFileSync(file);
  sha = createHash('sha256').update(ckpt).digest('hex');
  server = await startBlobServer(Buffer.alloc(1), 0, { '/dpt_small.pt': ckpt });
  manifest = {
    manifestVersion: 1,
    models: [
      row('midas-small', { pytorchUrl: `${server.base}/dpt_small.pt`, pytorchSizeBytes: ckpt.length, pytorchSha256: sha }),
      row('midas-bad-sum', { pytorchUrl: `${server.base}/dpt_small.pt`, pytorchSha256: '00'.repeat(32) }),
    ],
  };
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('manifest rows with only a PyTorch checkpoint', () => {
  it('pull downloads the checkpoint, verifies it and converts it once into the cache', async () => {
    const dir = join(root, 'models');
    const out = sink();
    const err = sink();
    expect(await modelsPull('midas-small', { dir, manifest, out: out.stream, err: err.stream as unknown as NodeJS.WriteStream })).toBe(0);
    expect(readFileSync(join(dir, 'midas-small.pt')).equals(ckpt)).toBe(true);
    const onnx = join(dir, 'converted', `${sha}.onnx`);
    expect(out.text()).toBe(`midas-small: ${onnx} (${out.text().match(/\((\S+ \S+),/)![1]}, sha256 verified)\n`);
    expect(err.text()).toMatch(/^converting .*midas-small\.pt to ONNX on first use/m);
    expect(err.text()).toMatch(/^converted: midas-dpt-base-64 \(from the keys and shapes\)/m);
    expect(err.text()).not.toMatch(/warning: convert/);
    const meta = readOnnxMetadata(onnx);
    expect(meta['depth_video.family']).toBe('dpt');
    expect(meta['depth_video.source_sha256']).toBe(sha);

    // Found again without a request or a conversion.
    const requests = server.seen.length;
    const notes: string[] = [];
    const again = await resolveModel('midas-small', { allowDownload: false, dir, manifest, onWarning: (l) => notes.push(l) });
    expect(again.path).toBe(onnx);
    expect(again.fetched).toBe(false);
    expect(notes).toEqual([]);
    expect(server.seen.length).toBe(requests);
  });

  it('list shows the input-size behaviour and the checkpoint; verify checks the checkpoint against its sha256', async () => {
    const dir = join(root, 'models');
    const list = sink();
    await modelsList({ json: true, dir, manifest }, list.stream);
    const rows = JSON.parse(list.text()).models as { name: string; status: string; input: string; checkpoint: boolean; file: string }[];
    expect(rows.find((r) => r.name === 'midas-small')).toMatchObject({ status: 'present', input: 'dynamic x32, aspect kept (minimal 384)', checkpoint: true, file: join(dir, 'midas-small.pt') });
    expect(rows.find((r) => r.name === 'midas-bad-sum')).toMatchObject({ status: 'missing', checkpoint: true });
    const text = sink();
    await modelsList({ dir, manifest }, text.stream);
    expect(text.text()).toMatch(/\nmidas-small\s+dpt\s+dynamic x32, aspect kept \(minimal 384\)\s+present\s+\S+ \S+\s+MIT {2}\[PyTorch checkpoint, converted on first use\]\n/);

    const ok = sink();
    expect(await modelsVerify({ dir, manifest, out: ok.stream })).toBe(0);
    expect(ok.text()).toBe(`midas-small: OK  sha256 ${sha}\n`);
    writeFileSync(join(dir, 'midas-bad-sum.pt'), 'tampered');
    await expect(modelsVerify({ dir, manifest, out: sink().stream })).rejects.toMatchObject({ code: 'CHECKSUM' });
    rmSync(join(dir, 'midas-bad-sum.pt'));
  });

  it('a checkpoint that fails its checksum is not kept and not converted', async () => {
    const dir = join(root, 'bad');
    await expect(modelsPull('midas-bad-sum', { dir, manifest, out: sink().stream, err: sink().stream as unknown as NodeJS.WriteStream })).rejects.toMatchObject({ code: 'CHECKSUM' });
    expect(existsSync(join(dir, 'midas-bad-sum.pt'))).toBe(false);
    expect(existsSync(join(dir, 'converted'))).toBe(false);
  });

  it('not downloaded and not allowed to: the pull command and the checkpoint URL', async () => {
    await expect(resolveModel('midas-small', { allowDownload: false, dir: join(root, 'none'), manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: `model midas-small is not downloaded: run \`depth-video models pull midas-small\` or download ${server.base}/dpt_small.pt and save it as ${join(root, 'none', 'midas-small.pt')}`,
    });
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { modelsList, modelsPull, modelsVerify } from '../../src/models/commands.js';
import { entryForFile, loadManifest, parseManifest, type Manifest, type ManifestEntry } from '../../src/models/manifest.js';
import { formatBytes } from '../../src/models/progress.js';
import { resolveModel } from '../../src/models/resolve.js';
import { sink, startBlobServer } from './helpers.js';

const fp32 = randomBytes(40_000);
const fp16 = randomBytes(20_000);
const q4f16 = randomBytes(8_000);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: Awaited<ReturnType<typeof startBlobServer>>;
let manifest: Manifest;
const root = mkdtempSync(join(tmpdir(), 'dv-variants-'));

beforeAll(async () => {
  server = await startBlobServer(fp32, 0, { '/onnx/model_fp16.onnx': fp16, '/onnx/model_q4f16.onnx': q4f16 });
  const entry: ManifestEntry = {
    name: 'da-small',
    family: 'depth-anything',
    url: `${server.base}/blob`,
    sizeBytes: fp32.length,
    sha256: sha(fp32),
    license: 'Apache-2.0',
    restricted: false,
    spec: FAMILY_SPECS['depth-anything'],
    variants: {
      fp16: { url: `${server.base}/onnx/model_fp16.onnx`, sizeBytes: null, approxSizeBytes: 49_600_000, sha256: sha(fp16) },
      q4f16: { url: `${server.base}/onnx/model_q4f16.onnx`, sizeBytes: null, approxSizeBytes: 19_100_000, sha256: null },
    },
  };
  manifest = { manifestVersion: 1, models: [entry] };
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('model variants (--model <name>:<variant>)', () => {
  it('a variant downloads its own URL to <name>.<variant>.onnx, checked against its own sha256', async () => {
    const dir = join(root, 'a');
    const r = await resolveModel('da-small:fp16', { allowDownload: true, dir, manifest });
    expect(r.path).toBe(join(dir, 'da-small.fp16.onnx'));
    expect(readFileSync(r.path).equals(fp16)).toBe(true);
    expect(r.download?.variant).toBe('fp16');
    expect(server.seen.at(-1)?.url).toBe('/onnx/model_fp16.onnx');
    expect(existsSync(join(dir, 'da-small.onnx'))).toBe(false);

    const plain = await resolveModel('da-small', { allowDownload: true, dir, manifest });
    expect(plain.path).toBe(join(dir, 'da-small.onnx'));
    expect(readFileSync(plain.path).equals(fp32)).toBe(true);
    expect((await resolveModel('da-small:fp32', { allowDownload: false, dir, manifest })).path).toBe(plain.path);
    // The file name leads back to the entry, so a variant gets the family's preprocessing.
    expect(entryForFile('da-small.fp16.onnx', manifest)?.name).toBe('da-small');
    expect(entryForFile('da-small.fp8.onnx', manifest)).toBeNull();
  });

  it('a variant whose bytes do not match its sha256 is refused and removed', async () => {
    const bad: Manifest = {
      manifestVersion: 1,
      models: [{ ...manifest.models[0], variants: { fp16: { ...manifest.models[0].variants!.fp16, sha256: sha(fp32) } } }],
    };
    const dir = join(root, 'b');
    await expect(resolveModel('da-small:fp16', { allowDownload: true, dir, manifest: bad })).rejects.toMatchObject({ code: 'CHECKSUM' });
    expect(existsSync(join(dir, 'da-small.fp16.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'da-small.fp16.onnx.partial'))).toBe(false);
  });

  it('an unknown variant is one line naming the model and every variant it has', async () => {
    const e = await resolveModel('da-small:fp8', { allowDownload: true, dir: join(root, 'c'), manifest }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'MODEL_UNKNOWN', exitCode: 1 });
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^unknown variant "fp8" of da-small: available fp32, fp16, q4f16 \(e\.g\. --model da-small:fp16;/);
    const gen = await resolveModel('analytic:fp16', { allowDownload: false, manifest }).catch((x: unknown) => x);
    expect((gen as Error).message).toBe('the generated model analytic has no variants: use --model analytic');
  });

  it('not downloaded and not allowed to: the message names the variant to pull', async () => {
    await expect(resolveModel('da-small:q4f16', { allowDownload: false, dir: join(root, 'd'), manifest })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining('run `depth-video models pull da-small:q4f16` or download http://127.0.0.1:'),
    });
  });

  it('pull and verify handle variants; list shows every variant with its size', async () => {
    const dir = join(root, 'e');
    const out = sink();
    const err = sink();
    expect(await modelsPull('da-small:q4f16', { dir, manifest, out: out.stream, err: err.stream as unknown as NodeJS.WriteStream })).toBe(0);
    expect(out.text()).toContain(`da-small:q4f16: ${join(dir, 'da-small.q4f16.onnx')}`);
    expect(out.text()).toContain('no published checksum to verify');

    const list = sink();
    await modelsList({ dir, manifest }, list.stream);
    const lines = list.text().split('\n');
    expect(lines.find((l) => /^da-small\s/.test(l))).toMatch(/missing\s+40\.0 kB\s+Apache-2\.0$/);
    expect(lines.find((l) => l.startsWith('  da-small:fp16 '))).toMatch(/missing\s+~49\.6 MB/);
    expect(lines.find((l) => l.startsWith('  da-small:q4f16 '))).toMatch(/present\s+~19\.1 MB\s+Apache-2\.0\s+\[no checksum\]$/);

    const json = sink();
    await modelsList({ dir, manifest, json: true }, json.stream);
    const rows = JSON.parse(json.text()).models as { name: string; variant: string; approxSizeBytes: number | null; status: string }[];
    expect(rows.map((r) => r.name)).toEqual(['da-small', 'da-small:fp16', 'da-small:q4f16']);
    expect(rows[2]).toMatchObject({ variant: 'q4f16', approxSizeBytes: 19_100_000, status: 'present' });

    await resolveModel('da-small:fp16', { allowDownload: true, dir, manifest });
    const v = sink();
    expect(await modelsVerify({ dir, manifest, out: v.stream })).toBe(0);
    expect(v.text()).toContain('da-small:fp16: OK');
    expect(v.text()).toContain('da-small:q4f16: present (no published checksum)');
    writeFileSync(join(dir, 'da-small.fp16.onnx'), 'tampered');
    await expect(modelsVerify({ dir, manifest, out: sink().stream })).rejects.toMatchObject({ code: 'CHECKSUM', file: join(dir, 'da-small.fp16.onnx') });
  });

  it('the shipped manifest: every transformers.js entry lists its precisions with the published sizes', () => {
    const m = loadManifest();
    const small = m.models.find((e) => e.name === 'depth-anything-v2-small')!;
    expect(Object.keys(small.variants ?? {})).toEqual(['fp16', 'quantized', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']);
    // 19.1 MB against 99.1 MB, as Hugging Face lists onnx-community/depth-anything-v2-small.
    expect(formatBytes(small.variants!.q4f16.approxSizeBytes!)).toBe('19.1 MB');
    expect(formatBytes(small.sizeBytes!)).toBe('99.1 MB');
    for (const e of m.models) {
      for (const [v, d] of Object.entries(e.variants ?? {})) {
        expect(d.url, `${e.name}:${v}`).toBe(e.url!.replace(/model\.onnx$/, `model_${v}.onnx`));
      }
    }
  });

  it('a hand-edited manifest with a nameless or url-less variant is one clear line', () => {
    const text = JSON.stringify({ models: [{ ...manifest.models[0], variants: { FP16: { url: 'x' } } }] });
    expect(() => parseManifest(text, 'm.json')).toThrow(/m\.json: variant "FP16" of da-small needs a lower-case name other than fp32 and a url/);
    const noUrl = JSON.stringify({ models: [{ ...manifest.models[0], variants: { fp16: {} } }] });
    expect(() => parseManifest(noUrl, 'm.json')).toThrow(/variant "fp16" of da-small/);
  });
});

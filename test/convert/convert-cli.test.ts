import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { readOnnxMetadata } from '../../src/inference/generate/metadata.js';
import { errorLine, ffmpeg, runCli, tempDir } from '../helpers/media.js';
import { randomStateDict, type DaShape } from './depth-anything/state-dict.js';
import { refused, writeZip } from './helpers.js';

const dir = tempDir('dv-convert-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** V1-shaped (the last four blocks are hooked), small enough to convert in a second. */
const SMALL: DaShape = { embedDim: 384, depth: 4, posGrid: 4, features: 16, outChannels: [8, 16, 32, 32] };

function checkpoint(name: string, change?: (dict: ReturnType<typeof randomStateDict>) => void): string {
  const dict = randomStateDict(SMALL);
  change?.(dict);
  const path = join(dir, name);
  writeTorchCheckpoint(path, [...dict].map(([key, t]) => ({ key, dtype: 'float32' as const, shape: t.shape, data: t.values })), { overwrite: true });
  return path;
}

describe('depth-video models convert', () => {
  it('converts, says which variant it chose and why, and prints one summary line', async () => {
    const ckpt = checkpoint('depth_anything_vits14.pth');
    const out = join(dir, 'v1.onnx');
    const r = await runCli(['models', 'convert', ckpt, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^converted depth_anything_vits14\.pth: depth-anything-v1 \(from the file name depth_anything_vits14\.pth\), ViT-S\/14 \(width 384, 4 blocks, 6 heads, MLP 1536\), hooks 0,1,2,3, features 16, out_channels 8\/16\/32\/32, [\d,]+ parameters, [\d.]+ s -> .*v1\.onnx \(\d.* MB\)\n$/,
    );
    expect(r.stderr).toMatch(/converting depth_anything_vits14\.pth: 100%/);
    expect(readOnnxMetadata(out)['depth_video.variant']).toBe('depth-anything-v1');

    // --family overrides the name.
    const v2 = await runCli(['models', 'convert', ckpt, '--out', join(dir, 'v2.onnx'), '--family', 'depth-anything-v2-metric', '--max-depth', '20']);
    expect(v2.code).toBe(1);
    expect(errorLine(v2.stderr)).toMatch(/4 transformer blocks, but ViT-S hooks block 11; the checkpoint does not match Depth-Anything v2-metric/);
  });

  it('a truncated checkpoint: exit 3, download again', async () => {
    const ckpt = checkpoint('truncated.pth');
    truncateSync(ckpt, Math.floor(readFileSync(ckpt).length / 2));
    expect(await refused(ckpt, 3)).toMatch(/truncated\.pth: the file is truncated or damaged .*; download it again$/);
  });

  it('a zip that is not a checkpoint', async () => {
    const zip = join(dir, 'photos.pth');
    writeZip(zip, { 'photos/readme.txt': 'hello' });
    expect(await refused(zip, 1)).toMatch(/photos\.pth: /);
  });

  it('a pickle naming a foreign global is refused, named and not run', async () => {
    const marker = join(dir, 'ran');
    const cmd = `touch ${marker}`;
    // torch.save layout, but data.pkl is posix.system(cmd).
    const pickle = Buffer.concat([Buffer.from('\x80\x02cposix\nsystem\nX', 'latin1'), Buffer.from(Uint32Array.of(cmd.length).buffer), Buffer.from(cmd, 'latin1'), Buffer.from('\x85R.', 'latin1')]);
    const evil = join(dir, 'evil.pth');
    writeZip(evil, { 'evil/data.pkl': pickle, 'evil/version': '3\n' });
    expect(await refused(evil, 1)).toMatch(/evil\.pth: refused to load: the pickle asks for posix\.system/);
    expect(existsSync(marker)).toBe(false);
  });

  it('an unknown architecture lists the first unrecognised keys and the known families', async () => {
    const ckpt = join(dir, 'resnet.pth');
    writeTorchCheckpoint(ckpt, [
      { key: 'conv1.weight', dtype: 'float32', shape: [8, 3, 7, 7] },
      { key: 'bn1.running_mean', dtype: 'float32', shape: [8] },
    ]);
    expect(await refused(ckpt, 1)).toBe(
      `depth-video: ${ckpt}: unknown architecture: first unrecognised keys conv1.weight, bn1.running_mean; known families: depth-anything (--family depth-anything | depth-anything-v1 | depth-anything-v2 | depth-anything-v2-metric); midas-vit (--family midas-vit); midas-beit (--family midas-beit); midas-swin2 (--family midas-swin2); midas-levit (--family midas-levit)`,
    );
  });

  it('a MiDaS v3.1 family that is not converted (Next-ViT, Swin v1) is named, with the families that are', async () => {
    const nextVit = join(dir, 'dpt_next_vit_large_384.pt');
    writeTorchCheckpoint(nextVit, [
      { key: 'pretrained.model.stem.0.conv.weight', dtype: 'float32', shape: [4, 3, 3, 3] },
      { key: 'pretrained.model.features.0.mhca.group_conv3x3.weight', dtype: 'float32', shape: [4, 1, 3, 3] },
      { key: 'scratch.layer1_rn.weight', dtype: 'float32', shape: [4, 4, 3, 3] },
    ]);
    expect(await refused(nextVit, 1)).toBe(
      `depth-video: ${nextVit}: a MiDaS v3.1 Next-ViT checkpoint (dpt_next_vit_large_384): depth-video cannot convert this family; it converts depth-anything, midas-vit, midas-beit, midas-swin2, midas-levit (see \`depth-video models list\`)`,
    );
    const swin1 = join(dir, 'dpt_swin_large_384.pt');
    writeTorchCheckpoint(swin1, [
      { key: 'pretrained.model.patch_embed.proj.weight', dtype: 'float32', shape: [4, 3, 4, 4] },
      { key: 'pretrained.model.layers.0.blocks.0.attn.relative_position_bias_table', dtype: 'float32', shape: [529, 6] },
      { key: 'pretrained.model.layers.0.blocks.0.attn.qkv.weight', dtype: 'float32', shape: [12, 4] },
    ]);
    expect(await refused(swin1, 1)).toMatch(/dpt_swin_large_384\.pt: a MiDaS v3\.1 Swin \(v1\) checkpoint \(dpt_swin_large_384\): depth-video cannot convert this family; it converts .*midas-swin2/);
    expect(existsSync(join(dir, 'dpt_swin_large_384.onnx'))).toBe(false);
  });

  it('shapes that contradict the family name the key and both shapes', async () => {
    const ckpt = checkpoint('depth_anything_vits14_bad.pth', (d) => {
      const t = d.get('depth_head.scratch.refinenet2.out_conv.weight')!;
      d.set('depth_head.scratch.refinenet2.out_conv.weight', { ...t, shape: [16, 8, 1, 2], values: t.values });
    });
    expect(await refused(ckpt, 1)).toMatch(
      /depth_head\.scratch\.refinenet2\.out_conv\.weight is \[16, 8, 1, 2\] but depth-anything-v1 ViT-S\/14 .* needs \[16, 16, 1, 1\]; the shapes contradict the family/,
    );
    // A V2 file name with a V1-deep encoder contradicts V2's hooked blocks.
    expect(await refused(checkpoint('depth_anything_v2_vits.pth'), 1)).toMatch(/4 transformer blocks, but ViT-S hooks block 11/);
  });

  it('an existing output is kept without --overwrite, replaced with it', async () => {
    const ckpt = checkpoint('depth_anything_vits14.pth');
    const out = join(dir, 'exists.onnx');
    writeFileSync(out, 'mine');
    const r = await runCli(['models', 'convert', ckpt, '--out', out]);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toBe(`depth-video: ${out} already exists; pass --overwrite to replace it or choose another --out`);
    expect(readFileSync(out, 'utf8')).toBe('mine');
    const again = await runCli(['models', 'convert', ckpt, '--out', out, '--overwrite']);
    expect(again.code, again.stderr).toBe(0);
    expect(readOnnxMetadata(out)['depth_video.family']).toBe('depth-anything');
  });
});

describe('--model <file.pth> on the main command: --family and --max-depth', () => {
  const models = tempDir('dv-convert-cache-');
  afterAll(() => rmSync(models, { recursive: true, force: true }));
  const env = { DEPTH_VIDEO_MODELS: models };
  const photo = join(dir, 'photo.png');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', photo]);
  const converted = (): string[] => readdirSync(join(models, 'converted')).filter((f) => f.endsWith('.onnx')).sort();
  const metaOf = (name: string) => readOnnxMetadata(join(models, 'converted', name));
  const run = (ckpt: string, out: string, extra: string[] = []) => runCli([photo, '--out', join(dir, out), '--model', ckpt, '--size', '28', '--overwrite', ...extra], { env });

  it('--family picks the variant of a checkpoint whose name says nothing, and is its own cached model', async () => {
    const ckpt = checkpoint('weights.pth');
    // V1-deep (4 blocks) under a neutral name: V2 is assumed and its hooks do not fit.
    const assumed = await run(ckpt, 'a.png');
    expect(assumed.code).toBe(1);
    expect(errorLine(assumed.stderr)).toMatch(/weights\.pth: 4 transformer blocks, but ViT-S hooks block 11; the checkpoint does not match Depth-Anything v2 \(check --family\)$/);
    const v1 = await run(ckpt, 'v1.png', ['--family', 'depth-anything-v1']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.stderr).toMatch(/converted: depth-anything-v1 \(--family depth-anything-v1\)/);
    expect(existsSync(join(dir, 'v1.png'))).toBe(true);
    const [name] = converted();
    expect(name).toMatch(/^[0-9a-f]{64}\.depth-anything-v1\.onnx$/);
    expect(metaOf(name!)['depth_video.variant']).toBe('depth-anything-v1');
  });

  it('another --family or --max-depth converts again into another file; the same ones reuse it', async () => {
    rmSync(join(models, 'converted'), { recursive: true, force: true });
    // 12 blocks: deep enough for V2's hooks, relative and metric alike.
    const dict = randomStateDict({ ...SMALL, depth: 12 }, 1, 0);
    const ckpt = join(dir, 'weights12.pth');
    writeTorchCheckpoint(ckpt, [...dict].map(([key, t]) => ({ key, dtype: 'float32' as const, shape: t.shape, data: t.values })), { overwrite: true });
    const relative = await run(ckpt, 'rel.png');
    expect(relative.code, relative.stderr).toBe(0);
    const metric20 = await run(ckpt, 'm20.png', ['--family', 'depth-anything-v2-metric', '--max-depth', '20']);
    expect(metric20.code, metric20.stderr).toBe(0);
    const metric80 = await run(ckpt, 'm80.png', ['--family', 'depth-anything-v2-metric', '--max-depth', '80']);
    expect(metric80.code, metric80.stderr).toBe(0);
    const names = converted();
    expect(names).toHaveLength(3);
    const sha = names.find((n) => /^[0-9a-f]{64}\.onnx$/.test(n))!.slice(0, 64);
    expect(names).toEqual([`${sha}.depth-anything-v2-metric.max-depth-20.onnx`, `${sha}.depth-anything-v2-metric.max-depth-80.onnx`, `${sha}.onnx`]);
    expect(metaOf(`${sha}.onnx`)['depth_video.output']).toBe('relative-inverse-depth');
    for (const m of [20, 80]) {
      const meta = metaOf(`${sha}.depth-anything-v2-metric.max-depth-${m}.onnx`);
      expect(meta['depth_video.output']).toBe('metric-depth');
      expect(JSON.parse(meta['depth_video.config']!).maxDepth).toBe(m);
    }
    const again = await run(ckpt, 'm20b.png', ['--family', 'depth-anything-v2-metric', '--max-depth', '20']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/converting/);
    expect(converted()).toHaveLength(3);
  }, 240_000);

  it('--family or --max-depth with a model that is not a checkpoint is a usage error', async () => {
    const r = await runCli([photo, '--out', join(dir, 'x.png'), '--model', 'analytic', '--max-depth', '20'], { env });
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toBe('depth-video: --max-depth only applies to a PyTorch checkpoint converted on first use (--model file.pth/.pt/.safetensors), not to analytic');
    const bad = await runCli([photo, '--out', join(dir, 'x.png'), '--model', 'weights.pth', '--family', '../x'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--family <name>' argument '\.\.\/x' is invalid\. Allowed choices are depth-anything, depth-anything-v1, depth-anything-v2, depth-anything-v2-metric, midas-/);
  });
});

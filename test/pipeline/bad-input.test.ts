import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeVideo, errorLine, makeClip, runCli, tempDir } from '../helpers/media.js';
import { buildTinyModel } from '../models/helpers.js';

/** Every bad input: one line on stderr naming the file, a non-zero exit code, nothing overwritten. */
describe('bad input', () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    dir = tempDir();
    clip = makeClip(join(dir, 'clip.mp4'), 'testsrc2=size=64x48:rate=10:duration=1');
  });

  it('missing input', async () => {
    const r = await runCli([join(dir, 'nope.mp4'), '--out', join(dir, 'o.mp4'), '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/input .*nope\.mp4 does not exist: check the path/);
    expect(existsSync(join(dir, 'o.mp4'))).toBe(false);
  });

  it('input that is not media', async () => {
    const txt = join(dir, 'notes.mp4');
    writeFileSync(txt, 'this is not a video\n'.repeat(50));
    const r = await runCli([txt, '--out', join(dir, 'o2.mp4'), '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/notes\.mp4: not a video or image ffmpeg can read/);
  });

  it('output that exists is not replaced without --overwrite, and is with it', async () => {
    const out = join(dir, 'exists.mp4');
    writeFileSync(out, 'precious');
    const r = await runCli([clip, '--out', out, '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/exists\.mp4 already exists: pass --overwrite/);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    const r2 = await runCli([clip, '--out', out, '--model', 'analytic', '--overwrite', '--sync', '-q']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(decodeVideo(out).pts.length).toBe(10);
  });

  for (const kind of ['symbolic', 'hard'] as const) {
    for (const overwrite of [false, true]) {
      it(`an --out that is a ${kind} link to the input is refused, ${overwrite ? 'with' : 'without'} --overwrite`, async () => {
        const input = join(dir, `precious-${kind}-${overwrite}.mp4`);
        copyFileSync(clip, input);
        const before = readFileSync(input);
        mkdirSync(join(dir, 'links'), { recursive: true });
        const link = join(dir, 'links', `depth-${kind}-${overwrite}.mp4`);
        if (kind === 'symbolic') symlinkSync(input, link);
        else linkSync(input, link);
        const r = await runCli([input, '--out', link, '--model', 'analytic', '--sync', ...(overwrite ? ['--overwrite'] : [])]);
        expect(r.code).toBe(1);
        expect(errorLine(r.stderr)).toBe(`depth-video: output ${link} is the input file ${input} under another name (a link): choose another --out path`);
        expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('!!'))).toEqual([errorLine(r.stderr)]);
        expect(readFileSync(input).equals(before)).toBe(true);
        expect(lstatSync(link).isSymbolicLink()).toBe(kind === 'symbolic');
      });
    }
  }

  it('output folder missing, checked before decoding', async () => {
    const r = await runCli([clip, '--out', join(dir, 'no/such/dir/o.mp4'), '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/output folder .*no\/such\/dir does not exist/);
  });

  it('output folder not writable', async () => {
    // Root may write anywhere that permissions govern; sysfs refuses everyone.
    const r = await runCli([clip, '--out', '/sys/depth.mp4', '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/output folder \/sys is not writable/);
  });

  it('unknown output type', async () => {
    const r = await runCli([clip, '--out', join(dir, 'o.xyz'), '--model', 'analytic']);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/unknown output type "\.xyz"/);
  });

  it('model file missing', async () => {
    const r = await runCli([clip, '--out', join(dir, 'o3.mp4'), '--model', join(dir, 'missing.onnx')]);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/missing\.onnx/);
    expect(errorLine(r.stderr)).toMatch(/not (found|exist)/i);
  });

  it('model file that is not ONNX', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model at all');
    const r = await runCli([clip, '--out', join(dir, 'o4.mp4'), '--model', bad]);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/bad\.onnx is not an ONNX model/);
  });

  it('model whose input is not [N,3,H,W]', async () => {
    const m = join(dir, 'gray.onnx');
    writeFileSync(m, buildTinyModel({ inputs: [{ name: 'x', dims: [1, 1, 'h', 'w'] }], outputs: [{ name: 'y', dims: [1, 'h', 'w'] }] }));
    const r = await runCli([clip, '--out', join(dir, 'o5.mp4'), '--model', m]);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/gray\.onnx/);
    expect(errorLine(r.stderr)).toMatch(/\[N,3,H,W\]|\[N, 3, H, W\]/);
  });

  it('odd frame sizes still encode to H.264 (the last column/row is repeated)', async () => {
    const odd = makeClip(join(dir, 'odd.mkv'), "nullsrc=s=65x49:r=10:d=1,geq=r='X*3':g='Y*5':b='N*20'", { codec: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'] });
    expect(decodeVideo(odd).width).toBe(65);
    const out = join(dir, 'odd.mp4');
    const r = await runCli([odd, '--out', out, '--model', 'analytic', '--sync', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const d = decodeVideo(out);
    expect([d.width, d.height]).toEqual([66, 50]);
    expect(d.pts.length).toBe(10);
  });

  it('a truncated video keeps the frames it could decode and says where it stopped (exit 3)', async () => {
    const long = makeClip(join(dir, 'long.mkv'), 'testsrc2=size=160x90:rate=25:duration=4', { codec: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10'] });
    const cut = join(dir, 'cut.mkv');
    copyFileSync(long, cut);
    truncateSync(cut, Math.floor(statSync(long).size * 0.5));
    const out = join(dir, 'cut-depth.mp4');
    const r = await runCli([cut, '--out', out, '--model', 'analytic', '--sync', '--json', '-q']);
    expect(r.code).toBe(3);
    const line = errorLine(r.stderr);
    const m = /cut\.mkv is damaged or truncated: ffmpeg reported "Read error" after (\d+\.\d\d) s; kept (\d+) frames up to (\d+\.\d\d) s of about 100$/.exec(line);
    expect(m, line).not.toBeNull();
    const pts = decodeVideo(out).pts;
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { frames: { written: number } };
    expect(pts.length).toBe(summary.frames.written);
    expect(Number(m![2])).toBe(pts.length);
    expect(Number(m![3])).toBeCloseTo(pts[pts.length - 1]! - pts[0]!, 2);
    expect(pts.length).toBeGreaterThan(10);
    expect(pts.length).toBeLessThan(100);
    // Truncated: nothing decodes past the damage, and the message does not pretend otherwise.
    expect(Number(m![3]) - Number(m![1])).toBeLessThanOrEqual(0.5);
  });

  it('corrupt bytes in the middle of an MPEG-TS: the decoder\'s own words, where, and the frames kept after it (exit 3)', async () => {
    const clean = makeClip(join(dir, 'clean.ts'), 'testsrc2=size=320x180:rate=25:duration=4', { codec: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25'] });
    // Named so that ffmpeg's banner ("Input #0, mpegts, from '…corrupt…'") holds a damage word.
    const bad = join(dir, 'corrupt-middle.ts');
    const bytes = readFileSync(clean);
    let seed = 12345;
    const half = bytes.length >> 1;
    for (let at = half; at < half + 20_000; at += 188 * 3) {
      // Keep each TS packet's 4-byte header (and a little more): the payload is what decoders meet.
      for (let j = 8; j < 180; j++) { seed = (seed * 1103515245 + 12345) >>> 0; bytes[at + j] = seed >>> 24; }
    }
    writeFileSync(bad, bytes);
    const out = join(dir, 'corrupt-depth.mp4');
    const r = await runCli([bad, '--out', out, '--model', 'analytic', '--sync', '--json', '-q']);
    expect(r.code).toBe(3);
    const line = errorLine(r.stderr);
    expect(line).not.toMatch(/Input #0|from '/);
    const m = /corrupt-middle\.ts is damaged or truncated: ffmpeg reported "([^"]+)" after (\d+\.\d\d) s .*; kept (\d+) frames up to (\d+\.\d\d) s of about 100; decoding went on past the damage/.exec(line);
    expect(m, line).not.toBeNull();
    // An error of the decoder or the demuxer, in ffmpeg's words (not a warning when an error exists).
    expect(m![1]).not.toMatch(/PES packet size mismatch/);
    const pts = decodeVideo(out).pts;
    expect(Number(m![3])).toBe(pts.length);
    // The damage sits in the middle of the 4 s clip, and frames after it were written.
    const at = Number(m![2]);
    expect(at).toBeGreaterThan(1);
    expect(at).toBeLessThan(3);
    expect(pts[pts.length - 1]! - pts[0]!).toBeGreaterThan(at + 1);
    expect(pts.length).toBeGreaterThan(90);
  });

  it('a file cut before its first frame is damaged input (exit 3)', async () => {
    const mkv = makeClip(join(dir, 'whole-head.mkv'), 'testsrc2=size=160x90:rate=25:duration=2');
    const head = join(dir, 'head.mkv');
    writeFileSync(head, readFileSync(mkv).subarray(0, 2000));
    const r = await runCli([head, '--out', join(dir, 'head-depth.mp4'), '--model', 'analytic']);
    expect(r.code).toBe(3);
    expect(errorLine(r.stderr)).toMatch(/head\.mkv is damaged or truncated: no frame could be decoded \(ffmpeg: "Read error"\); re-copy or re-export the file$/);
  });

  it('an MP4 cut before its index is damaged input (exit 3), not "not media"', async () => {
    const mp4 = makeClip(join(dir, 'whole.mp4'), 'testsrc2=size=160x90:rate=25:duration=2');
    const cut = join(dir, 'cut.mp4');
    copyFileSync(mp4, cut);
    truncateSync(cut, Math.floor(statSync(mp4).size * 0.5));
    const r = await runCli([cut, '--out', join(dir, 'cut-mp4-depth.mp4'), '--model', 'analytic']);
    expect(r.code).toBe(3);
    expect(errorLine(r.stderr)).toMatch(/cut\.mp4 is damaged or truncated \(its MP4 index, the moov atom, is missing\): no frames can be recovered; re-copy or re-export the file$/);
    expect(existsSync(join(dir, 'cut-mp4-depth.mp4'))).toBe(false);
  });

  it('Ctrl-C mid-run leaves a playable file and prints the summary', async () => {
    const src = makeClip(join(dir, 'ten.mp4'), 'testsrc2=size=320x180:rate=30:duration=20');
    const out = join(dir, 'interrupted.mp4');
    let sent = false;
    const r = await runCli([src, '--out', out, '--model', 'analytic-slow', '--sync'], {
      onSpawn: (p) => {
        p.stderr!.on('data', (d: Buffer) => {
          // Interrupt once a few frames are through.
          if (!sent && /progress: .*\b([5-9]|\d\d+)\/\d+ frames/.test(d.toString())) { sent = true; p.kill('SIGINT'); }
        });
        setTimeout(() => { if (!sent) { sent = true; p.kill('SIGINT'); } }, 8000);
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/stopping: finishing the output/);
    expect(r.stderr).toMatch(/stopped: \d+ frames read, \d+ inferred/);
    const written = Number(/(\d+) written/.exec(r.stderr)![1]);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(600);
    expect(decodeVideo(out).pts.length).toBe(written);
  });

  it('bad flag values are usage errors (exit 2)', async () => {
    const r = await runCli([clip, '--out', join(dir, 'o6.mp4'), '--colormap', 'rainbow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rainbow/);
    const r2 = await runCli([clip]);
    expect(r2.code).toBe(2);
    expect(errorLine(r2.stderr)).toMatch(/no output given/);
  });

  it('a pipeline preset with a bad field names the file and the field', async () => {
    const p = join(dir, 'preset.json');
    mkdirSync(join(dir, 'p'), { recursive: true });
    writeFileSync(p, JSON.stringify({ name: 'x', model: 'analytic', schedule: 'sometimes', render: { colormap: 'inferno', layout: 'depth' } }));
    const r = await runCli([clip, '--out', join(dir, 'o7.mp4'), '--pipeline', p]);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/preset\.json: schedule must be one of async, sync/);
  });
});

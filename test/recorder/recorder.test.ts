import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import {
  defaultRecordingDir, nodeFs, readDepth16, readRaw, readRecording, Recorder, type RecorderFs, type RecordFormat,
} from '../../src/sinks/recorder/index.js';
import { makeFrame, manifestInit, tempDir } from './helpers.js';

async function record(dir: string, format: RecordFormat, indices: number[], extra: { maxBytes?: number; fs?: RecorderFs; warnings?: string[] } = {}) {
  const rec = await Recorder.create(dir, { format, overwrite: false, manifest: manifestInit(), maxBytes: extra.maxBytes, fs: extra.fs, onWarning: (l) => extra.warnings?.push(l) });
  rec.start(indices[0]);
  for (const i of indices) await rec.write(makeFrame(i, i * 0.04));
  return { rec, manifest: await rec.close() };
}

function jsonl(dir: string): Array<Record<string, unknown>> {
  return readFileSync(join(dir, 'frames.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** nodeFs whose Nth writeFile (1-based) fails with the given errno code. */
function failingFs(n: number, code = 'ENOSPC'): RecorderFs & { writes: number } {
  const fs = {
    ...nodeFs,
    writes: 0,
    async writeFile(p: string, d: Uint8Array | string) {
      fs.writes++;
      if (fs.writes === n) {
        // A real ENOSPC can leave a partly written file behind; so does this.
        await nodeFs.writeFile(p, typeof d === 'string' ? d.slice(0, 3) : d.subarray(0, 3));
        throw Object.assign(new Error(`${code}: no space left on device, write`), { code });
      }
      return nodeFs.writeFile(p, d);
    },
  };
  return fs;
}

describe('Recorder', () => {
  it('a dir that cannot be made (under /proc) is one OUTPUT_DIR error, not a hang', async () => {
    // Node 20's mkdir({ recursive: true }) never settles for such a path; the
    // race turns a hang into a failure this test can see.
    const created = Recorder.create('/proc/self/no-such-dir/rec', { format: 'png16', overwrite: false, manifest: manifestInit() });
    const outcome = await Promise.race([
      created.then(() => 'created', (e: unknown) => e),
      new Promise((r) => setTimeout(() => r('hung'), 5000)),
    ]);
    expect(outcome).toBeInstanceOf(DepthVideoError);
    expect((outcome as DepthVideoError).code).toBe('OUTPUT_DIR');
    expect((outcome as DepthVideoError).message).toMatch(/cannot write recording dir \/proc\/self\/no-such-dir\/rec .*choose a writable --record dir/);
  });

  it("format 'both' writes one jsonl line per frame, exact PNG16 and .npy, and a complete manifest", async () => {
    const dir = join(tempDir('both'), 'rec');
    const frames = [0, 1, 2, 4, 5].map((i) => makeFrame(i, i * 0.04));
    const rec = await Recorder.create(dir, { format: 'both', overwrite: false, manifest: manifestInit() });
    const early = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { complete: boolean; endedAt: unknown };
    expect(early.complete).toBe(false);
    expect(early.endedAt).toBeNull();
    expect(rec.recording).toBe(false);
    rec.start(0);
    expect(rec.recording).toBe(true);
    // Fire without awaiting: order must still hold.
    const writes = frames.map((f) => rec.write(f));
    frames[0].depth16.fill(7); // caller reuses its buffer right away
    await Promise.all(writes);
    const m = await rec.close('end of input');

    const lines = jsonl(dir);
    expect(lines.map((l) => l.index)).toEqual([0, 1, 2, 4, 5]);
    const pts = lines.map((l) => l.pts as number);
    for (let i = 1; i < pts.length; i++) expect(pts[i]).toBeGreaterThan(pts[i - 1]);
    expect(lines[3]).toMatchObject({ index: 4, pts: 0.16, wallTime: 1_700_000_000_160, inferMs: 16.5, droppedBefore: 0, width: 40, height: 30, depth: 'depth/000004.png', raw: 'raw/000004.npy' });
    expect(readdirSync(join(dir, 'depth')).sort()).toEqual(['000000.png', '000001.png', '000002.png', '000004.png', '000005.png']);

    const disk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(disk).toEqual(m);
    expect(m).toMatchObject({ version: 1, complete: true, format: 'both', framesRecorded: 5, stoppedReason: 'end of input', segments: [{ startFrame: 0, endFrame: 6 }] });
    expect(typeof m.endedAt).toBe('string');
    expect(Date.parse(m.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(m.startedAt));
    expect(m.model.name).toBe('test-model');
    expect(m.spec.multipleOf).toBe(32);

    const loaded = await readRecording(dir);
    expect(loaded.problems).toEqual(['recording stopped early: end of input']);
    expect(loaded.frames).toHaveLength(5);
    const original = makeFrame(0, 0);
    expect(Array.from(await readDepth16(dir, loaded.frames[0], loaded.manifest))).toEqual(Array.from(original.depth16));
    expect(Buffer.from(readRaw(dir, loaded.frames[4]).buffer).equals(Buffer.from(frames[4].raw.buffer))).toBe(true);
  });

  it('records only frames inside start/stop segments and lists the segments', async () => {
    const dir = tempDir('seg');
    const rec = await Recorder.create(dir, { format: 'png16', overwrite: true, manifest: manifestInit() });
    for (let i = 0; i < 12; i++) {
      if (i === 2 || i === 8) rec.start(i);
      if (i === 5) rec.stop(i);
      await rec.write(makeFrame(i, i / 25));
    }
    const m = await rec.close();
    expect(m.segments).toEqual([{ startFrame: 2, endFrame: 5 }, { startFrame: 8, endFrame: 12 }]);
    expect(jsonl(dir).map((l) => l.index)).toEqual([2, 3, 4, 8, 9, 10, 11]);
    expect(readdirSync(join(dir, 'depth')).length).toBe(7);
    expect(existsSync(join(dir, 'raw'))).toBe(false);
    expect(m.framesRecorded).toBe(7);
  });

  it('refuses a non-empty dir unless overwrite, and overwrite clears only recording files', async () => {
    const dir = tempDir('busy');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(Recorder.create(dir, { format: 'png16', overwrite: false, manifest: manifestInit() })).rejects.toMatchObject({
      code: 'RECORDING', message: `${dir} is not empty: choose another --record dir or pass --overwrite`,
    });
    await record(join(dir, 'r'), 'both', [0, 1, 2]);
    const inner = join(dir, 'r');
    writeFileSync(join(inner, 'depth', 'keep.txt'), 'x');
    writeFileSync(join(inner, 'depth', '.000009.png.1-1.tmp'), 'partial');
    const warnings: string[] = [];
    const rec = await Recorder.create(inner, { format: 'png16', overwrite: true, manifest: manifestInit(), onWarning: (l) => warnings.push(l) });
    expect(readdirSync(join(inner, 'depth'))).toEqual(['keep.txt']);
    expect(existsSync(join(inner, 'raw'))).toBe(false);
    expect(existsSync(join(inner, 'frames.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/kept 1 unrelated/);
    await rec.close();
  });

  it('reports an unwritable dir as OUTPUT_DIR', async () => {
    const base = tempDir('nowrite');
    writeFileSync(join(base, 'file'), 'x');
    const err = await Recorder.create(join(base, 'file', 'sub'), { format: 'png16', overwrite: false, manifest: manifestInit() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DepthVideoError);
    expect((err as DepthVideoError).code).toBe('OUTPUT_DIR');
    const err2 = await Recorder.create(join(base, 'file'), { format: 'png16', overwrite: true, manifest: manifestInit() }).catch((e: unknown) => e);
    expect((err2 as DepthVideoError).code).toBe('OUTPUT_DIR');
  });

  it('stops consistently with one warning on simulated ENOSPC at the Nth write', async () => {
    const dir = tempDir('enospc');
    // writeFile calls: 1 = manifest at create, 2 = manifest at start(), then png, npy per frame.
    // Write 9 is frame 3's png: frames 0..2 survive, frame 3 leaves nothing.
    const fs = failingFs(9);
    const warnings: string[] = [];
    const { rec, manifest } = await record(dir, 'both', [0, 1, 2, 3, 4, 5], { fs, warnings });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    expect(warnings[0]).toMatch(/disk full/);
    expect(rec.recording).toBe(false);
    expect(manifest.stoppedReason).toBe('disk full (ENOSPC)');
    expect(manifest.framesRecorded).toBe(3);
    expect(manifest.segments).toEqual([{ startFrame: 0, endFrame: 3 }]);
    expect(jsonl(dir).map((l) => l.index)).toEqual([0, 1, 2]);
    expect(readdirSync(join(dir, 'depth')).sort()).toEqual(['000000.png', '000001.png', '000002.png']);
    expect(readdirSync(join(dir, 'raw')).sort()).toEqual(['000000.npy', '000001.npy', '000002.npy']);
    const loaded = await readRecording(dir);
    expect(loaded.frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(loaded.problems).toEqual(['recording stopped early: disk full (ENOSPC)']);
  });

  it('removes the already renamed files of a frame whose second file fails', async () => {
    const dir = tempDir('enospc2');
    const warnings: string[] = [];
    // Write 4 = frame 0's npy, after its png was renamed into place.
    const { manifest } = await record(dir, 'both', [0, 1], { fs: failingFs(4, 'EDQUOT'), warnings });
    expect(warnings).toHaveLength(1);
    expect(manifest.stoppedReason).toBe('disk quota exceeded (EDQUOT)');
    expect(manifest.framesRecorded).toBe(0);
    expect(readdirSync(join(dir, 'depth'))).toEqual([]);
    expect(readdirSync(join(dir, 'raw'))).toEqual([]);
    expect(existsSync(join(dir, 'frames.jsonl'))).toBe(false);
  });

  it('stops recording (not the caller) when maxBytes would be exceeded', async () => {
    const probe = tempDir('probe');
    await record(probe, 'both', [0]);
    const oneFrame = ['depth/000000.png', 'raw/000000.npy', 'frames.jsonl'].reduce((a, f) => a + readFileSync(join(probe, f)).length, 0);
    const dir = tempDir('max');
    const warnings: string[] = [];
    const limit = Math.floor(oneFrame * 3.5);
    const { manifest } = await record(dir, 'both', [0, 1, 2, 3, 4, 5, 6], { maxBytes: limit, warnings });
    expect(manifest.framesRecorded).toBe(3);
    expect(manifest.stoppedReason).toMatch(/size limit/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    const total = ['depth', 'raw'].flatMap((d) => readdirSync(join(dir, d)).map((f) => readFileSync(join(dir, d, f)).length)).reduce((a, b) => a + b, 0)
      + readFileSync(join(dir, 'frames.jsonl')).length;
    expect(total).toBeLessThanOrEqual(limit);
  });

  it('reads a damaged recording and lists its problems', async () => {
    const dir = tempDir('damaged');
    const rec = await Recorder.create(dir, { format: 'png16', overwrite: false, manifest: manifestInit() });
    rec.start(0);
    for (let i = 0; i < 4; i++) await rec.write(makeFrame(i, i * 0.04));
    // No close(): as after a SIGKILL. Then damage it.
    unlinkSync(join(dir, 'depth', '000001.png'));
    writeFileSync(join(dir, 'depth', '.000004.png.999-7.tmp'), 'half a png');
    writeFileSync(join(dir, 'frames.jsonl'), `${readFileSync(join(dir, 'frames.jsonl'), 'utf8')}{"index":4,"pts":0.1`);
    const loaded = await readRecording(dir);
    expect(loaded.manifest.complete).toBe(false);
    expect(loaded.frames.map((f) => f.index)).toEqual([0, 2, 3]);
    expect(loaded.problems).toHaveLength(4);
    expect(loaded.problems.join('\n')).toMatch(/complete: false/);
    expect(loaded.problems.join('\n')).toMatch(/frame 1: depth\/000001\.png is missing/);
    expect(loaded.problems.join('\n')).toMatch(/orphan temp file depth\/\.000004\.png\.999-7\.tmp/);
    expect(loaded.problems.join('\n')).toMatch(/truncated line/);
    expect(Array.from(await readDepth16(dir, loaded.frames[2], loaded.manifest))).toEqual(Array.from(makeFrame(3, 0).depth16));
  });

  it('names default dirs recordings/<input>-<YYYYMMDD-HHMMSS> under cwd', () => {
    const now = new Date(2024, 0, 2, 3, 4, 5);
    expect(defaultRecordingDir('/videos/my clip.mp4', now)).toBe(join(process.cwd(), 'recordings', 'my-clip-20240102-030405'));
    expect(defaultRecordingDir('webcam:0', now)).toBe(join(process.cwd(), 'recordings', 'webcam-0-20240102-030405'));
  });
});

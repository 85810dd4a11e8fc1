import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverInputs, outDirPath, planOutputs } from '../../src/batch/discover.js';
import { optionsHash, pipelineOptionsFor, sessionKey, validateFileOptions, type FileOptions } from '../../src/batch/options.js';
import { decide, type StateEntry } from '../../src/batch/state.js';
import { batchProgressText } from '../../src/cli/progress.js';
import { jobIdFor, validateJobData } from '../../src/queue/jobs.js';
import { tempDir } from '../helpers/media.js';

const OPTIONS: FileOptions = {
  model: 'analytic',
  render: { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 },
  stillStabilize: 'off',
  spec: {},
  audio: true,
  lossless: false,
  device: 'cpu',
  threads: null,
  maxFrames: null,
  videoExt: '.mp4',
};

function touch(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  return path;
}

describe('finding the inputs of a batch', () => {
  const dir = tempDir('dv-plan-');
  const root = join(dir, 'clips');
  touch(join(root, 'a.mp4'));
  touch(join(root, 'sub', 'b.MOV'));
  touch(join(root, 'sub', 'deep', 'c.png'));
  touch(join(root, 'sub', 'notes.txt'));
  touch(join(root, '.hidden', 'h.mp4'));
  touch(join(root, 'out', 'old.mp4'));

  it('walks a folder recursively for media files, leaving out hidden entries and the out dir', async () => {
    const { root: r, items } = await discoverInputs([root], { skip: join(root, 'out') });
    expect(r).toBe(root);
    expect(items.map((i) => i.rel)).toEqual(['a.mp4', join('sub', 'b.MOV'), join('sub', 'deep', 'c.png')]);
    expect(items.map((i) => i.still)).toEqual([false, false, true]);
  });

  it('mirrors the tree: videos get the video extension, pictures .png', async () => {
    const { items } = await discoverInputs([root], { skip: join(root, 'out') });
    expect(planOutputs(items, '/o', '.mkv')).toEqual(['/o/a.mkv', '/o/sub/b.mkv', '/o/sub/deep/c.png']);
  });

  it('takes a .txt list relative to itself, and roots the outputs at the deepest common folder', async () => {
    const list = join(dir, 'list.txt');
    writeFileSync(list, '# clips\nclips/sub/b.MOV\n\n  clips/sub/deep/c.png  \n');
    const { root: r, items } = await discoverInputs([list]);
    expect(r).toBe(join(root, 'sub'));
    expect(items.map((i) => i.rel)).toEqual(['b.MOV', join('deep', 'c.png')]);
  });

  it('expands a glob below its static part', async () => {
    const { items } = await discoverInputs([`${root}/**/*.{MOV,png}`]);
    expect(items.map((i) => i.input)).toEqual([join(root, 'sub', 'b.MOV'), join(root, 'sub', 'deep', 'c.png')]);
  });

  it('says which input is missing, and when a glob matches nothing', async () => {
    await expect(discoverInputs([join(dir, 'nope')])).rejects.toThrow(/input .*nope does not exist: check the path/);
    await expect(discoverInputs([`${root}/*.webm`])).rejects.toThrow(/no video or image matches .*\*\.webm/);
  });

  it('refuses two inputs writing one output, an output over its input, and URL out dirs', async () => {
    touch(join(dir, 'twins', 'x.mov'));
    touch(join(dir, 'twins', 'x.mp4'));
    const { items } = await discoverInputs([join(dir, 'twins')]);
    expect(() => planOutputs(items, '/o', '.mp4')).toThrow(/x\.mov and .*x\.mp4 would both write \/o\/x\.mp4/);
    const pics = await discoverInputs([join(root, 'sub', 'deep')]);
    expect(() => planOutputs(pics.items, join(root, 'sub', 'deep'), '.mp4')).toThrow(/would write over the input/);
    expect(() => outDirPath('http://host/depth/')).toThrow(/is a URL: only folders are supported/);
  });
});

describe('deciding what a rerun does', () => {
  const input = { size: 100, mtimeMs: 5 };
  const output = { size: 50, mtimeMs: 9 };
  const hash = optionsHash(OPTIONS);
  const entry = (over: Partial<StateEntry> = {}): StateEntry => ({ input: '/i.mp4', inputPrint: input, options: hash, status: 'done', frames: 10, outputPrint: output, error: null, at: '', ...over });

  it('skips only an output it finished from the same input and options', () => {
    expect(decide(entry(), input, hash, output)).toBe('skip');
    expect(decide(entry({ status: 'damaged' }), input, hash, output)).toBe('skip');
  });
  it('redoes its own output when the input, the options or the outcome differ', () => {
    expect(decide(entry(), { size: 100, mtimeMs: 6 }, hash, output)).toBe('run');
    expect(decide(entry(), input, optionsHash({ ...OPTIONS, render: { ...OPTIONS.render, invert: true } }), output)).toBe('run');
    expect(decide(entry({ status: 'interrupted' }), input, hash, output)).toBe('run');
    expect(decide(entry({ status: 'failed' }), input, hash, output)).toBe('run');
  });
  it('makes a missing output, and calls any other existing file foreign', () => {
    expect(decide(entry(), input, hash, null)).toBe('run');
    expect(decide(undefined, input, hash, output)).toBe('foreign');
    expect(decide(entry(), input, hash, { size: 51, mtimeMs: 9 })).toBe('foreign');
  });
});

describe('options and jobs', () => {
  it('hash the same options the same way whatever the key order', () => {
    const shuffled = JSON.parse(JSON.stringify({ videoExt: '.mp4', ...OPTIONS })) as FileOptions;
    expect(optionsHash(shuffled)).toBe(optionsHash(OPTIONS));
    expect(optionsHash({ ...OPTIONS, spec: { width: 256, height: 256 } })).not.toBe(optionsHash(OPTIONS));
  });
  it('give one job id per input, output and options', () => {
    const id = jobIdFor('/a.mp4', '/o/a.mp4', OPTIONS);
    expect(id).toMatch(/^dv-[0-9a-f]{32}$/);
    expect(jobIdFor('/a.mp4', '/o/a.mp4', { ...OPTIONS })).toBe(id);
    expect(jobIdFor('/b.mp4', '/o/a.mp4', OPTIONS)).not.toBe(id);
    expect(jobIdFor('/a.mp4', '/o/a.mp4', { ...OPTIONS, model: 'dpt-tiny' })).not.toBe(id);
  });
  it('reject what a worker cannot trust, naming the field', () => {
    const good = { input: '/a.mp4', output: '/o/a.mp4', still: false, overwrite: false, options: OPTIONS };
    expect(validateJobData(good, 'job 1')).toEqual(good);
    expect(() => validateJobData({ ...good, input: 'a.mp4' }, 'job 1')).toThrow(/job 1: input must be an absolute path/);
    expect(() => validateJobData({ ...good, extra: 1 }, 'job 1')).toThrow(/unknown field "extra"/);
    expect(() => validateJobData({ ...good, options: { ...OPTIONS, render: { ...OPTIONS.render, colormap: 'rainbow' } } }, 'job 1')).toThrow(/job 1 options: render\.colormap must be one of/);
    expect(() => validateFileOptions({ ...OPTIONS, lossless: true }, 'options')).toThrow(/--lossless/);
  });
  it('carry --family / --max-depth of a checkpoint model: in the hash and the session key, optional for jobs queued before them', () => {
    const metric = { ...OPTIONS, model: '/w/weights.pth', checkpoint: { family: 'depth-anything-v2-metric', maxDepth: 20 } };
    expect(validateFileOptions(metric, 'options')).toEqual(metric);
    expect(validateFileOptions({ ...OPTIONS }, 'options')).toEqual(OPTIONS);
    expect(optionsHash(metric)).not.toBe(optionsHash({ ...metric, checkpoint: { ...metric.checkpoint, maxDepth: 80 } }));
    expect(sessionKey(metric)).not.toBe(sessionKey({ ...metric, checkpoint: { family: 'depth-anything-v2' } }));
    expect(pipelineOptionsFor(metric, '/a.mp4', '/o/a.mp4', false).checkpoint).toEqual(metric.checkpoint);
    expect(() => validateFileOptions({ ...metric, checkpoint: { maxDepth: -1 } }, 'options')).toThrow(/checkpoint\.maxDepth must be > 0/);
  });
});

describe('batch progress line', () => {
  it('shows files, frames, fps and the ETA from the frames left', () => {
    expect(batchProgressText({ filesDone: 2, files: 8, framesDone: 300, frames: 1200, elapsedMs: 10_000, fps: 30 }, 8))
      .toBe('[##......] 2/8 files  300/1200 frames  30.0 fps  ETA 0:30');
  });
  it('follows files when no duration is known', () => {
    expect(batchProgressText({ filesDone: 1, files: 4, framesDone: 10, frames: null, elapsedMs: 1000, fps: 10 }, 4))
      .toBe('[#...] 1/4 files  10 frames  10.0 fps  ETA --:--');
  });
});

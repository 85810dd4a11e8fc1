import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticSpec } from '../../src/inference/generate/analytic.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { decodeVideo, FFMPEG, ffmpeg, hasAudio, makeClip, runCli, tempDir } from '../helpers/media.js';

/** The container's global tags, as ffmpeg reads them back (ffmetadata: key=value lines; Matroska spells its keys in capitals). */
function globalTags(path: string): Record<string, string> {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', path, '-f', 'ffmetadata', '-'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const tags: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith(';')) tags[line.slice(0, eq).toLowerCase()] = line.slice(eq + 1);
  }
  return tags;
}

/** The text comments of a PNG (tEXt "Comment") or a JPEG (COM segments). */
function imageComments(path: string): string[] {
  const b = readFileSync(path);
  const found: string[] = [];
  if (b[0] === 0x89) {
    for (let p = 8; p + 8 <= b.length;) {
      const len = b.readUInt32BE(p);
      const type = b.toString('latin1', p + 4, p + 8);
      if (type === 'tEXt') {
        const [key, text] = b.toString('latin1', p + 8, p + 8 + len).split('\0');
        if (key === 'Comment') found.push(text!);
      }
      p += 12 + len;
    }
  } else {
    for (let p = 2; p + 4 <= b.length && b[p] === 0xff && b[p + 1] !== 0xda;) {
      const len = b.readUInt16BE(p + 2);
      if (b[p + 1] === 0xfe) found.push(b.toString('latin1', p + 4, p + 2 + len));
      p += 2 + len;
    }
  }
  return found;
}

/** The analytic graph with metadata that does not call it untrained: the stand-in for a real model. */
function trainedStandIn(path: string): string {
  const g = new GraphBuilder('stand-in');
  const image = g.input('image', [1, 3, 'H', 'W']);
  const gray = g.op('ReduceMean', [image], { axes: [1], keepdims: 0 }, 'gray');
  g.output(gray, 'depth', [1, 'H', 'W']);
  writeFileSync(path, g.toBytes({ metadata: { 'depth_video.family': 'analytic', 'depth_video.spec': JSON.stringify(analyticSpec()) } }));
  return path;
}

describe('an untrained model\'s videos say so in the file', () => {
  let dir: string;
  let silent: string;
  let withAudio: string;
  let standIn: string;
  beforeAll(() => {
    dir = tempDir('dv-untrained-');
    silent = makeClip(join(dir, 'silent.mp4'), 'testsrc2=size=64x36:rate=10:duration=0.5');
    withAudio = makeClip(join(dir, 'audio.mp4'), 'testsrc2=size=64x36:rate=10:duration=0.5', { audio: true, seconds: 0.5 });
    standIn = trainedStandIn(join(dir, 'stand-in.onnx'));
  });

  const NOTE = 'depth-video, model analytic: UNTRAINED TEST MODEL, generated weights, NOT real depth';

  for (const ext of ['mp4', 'mkv', 'webm', 'mov']) {
    it(`.${ext}, with and without the audio pass: the comment tag names the model as untrained`, async () => {
      for (const [name, input] of [['silent', silent], ['audio', withAudio]] as const) {
        const out = join(dir, `out-${name}.${ext}`);
        const r = await runCli([input, '--out', out, '--model', 'analytic', '--sync', '-q']);
        expect(r.code, r.stderr).toBe(0);
        expect(hasAudio(out)).toBe(name === 'audio');
        expect(globalTags(out).comment, `${name}.${ext}`).toBe(NOTE);
      }
    });
  }

  for (const ext of ['png', 'jpg']) {
    it(`a .${ext} image output carries the note as its text comment, and its pixels are the same as without it`, async () => {
      const still = join(dir, 'still.png');
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x36', '-frames:v', '1', still]);
      const out = join(dir, `depth.${ext}`);
      const r = await runCli([still, '--out', out, '--model', 'analytic', '-q']);
      expect(r.code, r.stderr).toBe(0);
      // ffmpeg's JPEG encoder adds a comment of its own (its version).
      expect(imageComments(out).filter((c) => !c.startsWith('Lavc'))).toEqual([NOTE]);
      const plain = join(dir, `plain.${ext}`);
      const p = await runCli([still, '--out', plain, '--model', trainedStandIn(join(dir, `plain-${ext}.onnx`)), '-q']);
      expect(p.code, p.stderr).toBe(0);
      expect(imageComments(plain).filter((c) => !c.startsWith('Lavc'))).toEqual([]);
      // The comment changes no pixel: the labelled file decodes as ffmpeg wrote it (analytic and the stand-in differ, so compare the file with its comment cut out).
      const labelled = readFileSync(out);
      const at = labelled.indexOf(Buffer.from(NOTE, 'latin1'));
      const cut = ext === 'png' ? Buffer.concat([labelled.subarray(0, 33), labelled.subarray(at + NOTE.length + 4)]) : Buffer.concat([labelled.subarray(0, 2), labelled.subarray(at + NOTE.length)]);
      const bare = join(dir, `bare.${ext}`);
      writeFileSync(bare, cut);
      expect(decodeVideo(bare, { pixels: true }).frames[0]!.equals(decodeVideo(out, { pixels: true }).frames[0]!)).toBe(true);
    });
  }

  it('a model that is not marked untrained leaves no such tag', async () => {
    const out = join(dir, 'stand-in.mp4');
    const r = await runCli([silent, '--out', out, '--model', standIn, '--sync', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/UNTRAINED/);
    expect(globalTags(out).comment).toBeUndefined();
  });
});

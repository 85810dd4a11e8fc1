import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticSpec } from '../../src/inference/generate/analytic.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';
import { FFMPEG, hasAudio, makeClip, runCli, tempDir } from '../helpers/media.js';

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

  it('a model that is not marked untrained leaves no such tag', async () => {
    const out = join(dir, 'stand-in.mp4');
    const r = await runCli([silent, '--out', out, '--model', standIn, '--sync', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/UNTRAINED/);
    expect(globalTags(out).comment).toBeUndefined();
  });
});

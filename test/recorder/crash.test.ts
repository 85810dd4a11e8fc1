import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePng16, readNpy, readRecording } from '../../src/sinks/recorder/index.js';
import { tempDir } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A child process running the built recorder (the tests' globalSetup builds dist/ first), so it can be SIGKILLed. */
function buildChildModules(out: string): void {
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  writeFileSync(join(out, 'child.js'), `
import { Recorder } from '${pathToFileURL(join(root, 'dist/sinks/recorder/index.js')).href}';
const [dir] = process.argv.slice(2);
const W = 96, H = 64;
const manifest = { tool: { name: 'depth-video', version: '0' }, model: { name: 'm', path: 'm', sha256: null, untrained: true },
  input: { path: 'x', width: W, height: H, frameRate: 30 }, frameSize: { width: W, height: H }, inferenceSize: { width: W, height: H },
  spec: {}, render: {}, stabilize: null };
const rec = await Recorder.create(dir, { format: 'both', overwrite: false, manifest });
rec.start(0);
for (let i = 0; ; i++) {
  const depth16 = new Uint16Array(W * H).map((_, k) => (k * 31 + i * 977) & 0xffff);
  const raw = Float32Array.from(depth16, (v) => v / 7);
  await rec.write({ index: i, pts: i / 30, wallTime: Date.now(), inferMs: 1, rawMin: 0, rawMax: 9362, droppedBefore: 0, width: W, height: H, depth16, raw });
  if (i === 5) process.stdout.write('ready\\n');
}
`);
}

describe('crash safety', () => {
  it('a SIGKILL mid-recording leaves every listed frame complete', async () => {
    const build = tempDir('crashbuild');
    buildChildModules(build);
    for (const delayMs of [37, 260]) {
      const dir = join(tempDir('crash'), 'rec');
      const child = spawn(process.execPath, [join(build, 'child.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res) => child.stdout.once('data', () => res()));
      await new Promise((res) => setTimeout(res, delayMs));
      child.kill('SIGKILL');
      await new Promise((res) => child.once('exit', res));

      const loaded = await readRecording(dir);
      expect(loaded.manifest.complete).toBe(false);
      expect(loaded.frames.length).toBeGreaterThan(5);
      expect(loaded.problems.filter((p) => /missing|empty|not valid JSON/.test(p))).toEqual([]);
      loaded.frames.forEach((f, i) => expect(f.index).toBe(i));
      for (const f of loaded.frames) {
        const img = decodePng16(readFileSync(join(dir, f.depth as string))); // throws on a torn file (CRC / IEND)
        expect(img.data[1]).toBe((31 + f.index * 977) & 0xffff);
        const raw = readNpy(join(dir, f.raw as string));
        expect(raw.data[1]).toBeCloseTo(img.data[1] / 7, 2);
      }
    }
  });
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAMILY_CATALOGUE, FAMILY_NAMES } from '../../src/convert/catalogue.js';
import { CONVERTER_FAMILIES } from '../../src/convert/registry.js';
import { errorLine, makeClip, ROOT, runCli, tempDir, type CliResult } from '../helpers/media.js';

/** The built modules under dist/ that importing the CLI resolves, in a fresh node. */
function modulesLoadedByCli(): string[] {
  // A resolve hook in the child prints every URL it resolves.
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('URL ' + r.url + '\\n'); return r; }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href)})`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const dist = pathToFileURL(join(ROOT, 'dist')).href + '/';
  return [...new Set(r.stderr.split('\n').filter((l) => l.startsWith('URL ' + dist)).map((l) => l.slice(4 + dist.length)))];
}

describe('start-up', () => {
  it('a run of an ONNX model does not load the checkpoint converter (49 modules): only its catalogue', () => {
    const loaded = modulesLoadedByCli();
    expect(loaded).toContain('cli/main.js');
    expect(loaded).toContain('convert/catalogue.js');
    expect(loaded.filter((m) => m.startsWith('convert/') && m !== 'convert/catalogue.js')).toEqual([]);
  });

  it('loads rxjs as its one-file bundle, not its 223 CommonJS files (55-75 ms of every start), and neither the preview server\'s ws, onnxruntime nor protobufjs', () => {
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const r = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(pathToFileURL(main).href)}).then(() => console.log(JSON.stringify(Object.keys(require.cache))))`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as string[]).map((f) => f.replaceAll('\\', '/'));
    expect(files.filter((f) => f.includes('/node_modules/rxjs/'))).toEqual([expect.stringMatching(/\/rxjs\/dist\/bundles\/rxjs\.umd\.min\.js$/)]);
    expect(files.filter((f) => f.includes('/node_modules/ws/'))).toEqual([]);
    // onnxruntime's binding loads in the inference worker, protobufjs when a model is first read (about 40 ms each, off the main thread's start).
    expect(files.filter((f) => /\/node_modules\/(onnxruntime-|onnx-proto|protobufjs|@protobufjs)/.test(f))).toEqual([]);
    // The CommonJS files the CLI still loads (commander, picomatch): a new heavy one shows here.
    expect(files.length).toBeLessThan(20);
  });

  it('the catalogue says what the converter families say', () => {
    expect(CONVERTER_FAMILIES.map((f) => ({ name: f.name, variants: f.variants, produces: f.produces }))).toEqual(Object.values(FAMILY_CATALOGUE));
    expect(FAMILY_NAMES).toEqual(CONVERTER_FAMILIES.flatMap((f) => f.variants));
  });

  it('a run that fails at once, while onnxruntime still loads on the inference thread started ahead, exits with its own code and line, never an abort', async () => {
    // Ending a thread inside onnxruntime's loading aborts the process. It
    // takes the main thread ending first, which 4 runs at once on 2 cores
    // made happen in about 1 run of 15 without the wait (spare-worker.ts);
    // 24 runs catch that most of the time (spare-worker.test.ts always does).
    const dir = tempDir('dv-early-');
    const clip = makeClip(join(dir, 'clip.mp4'), 'testsrc2=size=64x48:rate=10:duration=0.3');
    const runs: CliResult[] = [];
    for (let round = 0; round < 6; round++) {
      runs.push(...await Promise.all(Array.from({ length: 4 }, (_, i) => i % 2
        ? runCli([clip, '--out', '/sys/depth.mp4', '--model', 'analytic'])
        : runCli([clip, '--out', join(dir, 'x.mp4'), '--model', 'analytic', '--max-depth', '20']))));
    }
    for (const [i, r] of runs.entries()) {
      expect(r.signal, `run ${i}: ${r.stderr.slice(-300)}`).toBeNull();
      expect(r.code, r.stderr).toBe(i % 2 ? 1 : 2);
      expect(errorLine(r.stderr)).toMatch(i % 2 ? /^depth-video: output folder \/sys is not writable/ : /^depth-video: --max-depth only applies to a PyTorch checkpoint/);
    }
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAMILY_CATALOGUE, FAMILY_NAMES } from '../../src/convert/catalogue.js';
import { CONVERTER_FAMILIES } from '../../src/convert/registry.js';
import { ROOT } from '../helpers/media.js';

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

  it('loads rxjs as its one-file bundle, not its 223 CommonJS files (55-75 ms of every start), and not the preview server\'s ws (about 30 ms)', () => {
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const r = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(pathToFileURL(main).href)}).then(() => console.log(JSON.stringify(Object.keys(require.cache))))`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as string[]).map((f) => f.replaceAll('\\', '/'));
    expect(files.filter((f) => f.includes('/node_modules/rxjs/'))).toEqual([expect.stringMatching(/\/rxjs\/dist\/bundles\/rxjs\.umd\.min\.js$/)]);
    expect(files.filter((f) => f.includes('/node_modules/ws/'))).toEqual([]);
    // The CommonJS files the CLI still loads (onnxruntime, protobufjs, commander, ...): a new heavy one shows here.
    expect(files.length).toBeLessThan(70);
  });

  it('the catalogue says what the converter families say', () => {
    expect(CONVERTER_FAMILIES.map((f) => ({ name: f.name, variants: f.variants, produces: f.produces }))).toEqual(Object.values(FAMILY_CATALOGUE));
    expect(FAMILY_NAMES).toEqual(CONVERTER_FAMILIES.flatMap((f) => f.variants));
  });
});

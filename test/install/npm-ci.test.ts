import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/media.js';
import { requireOrSkip } from '../helpers/prerequisites.js';

/**
 * A fresh clone installs silently: no warning about the project's own npm
 * configuration (unknown .npmrc keys, install scripts not covered by
 * allowScripts), onnxruntime-node's CUDA download denied, and the scripts
 * that are allowed run (ffmpeg ends up executable). One `npm ci`, so slow-ish.
 */
/** The environment of a user's shell: without the npm_config_* variables npm passes to `npm test`'s children. */
const shellEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
const npm = (args: string[], cwd: string, timeout: number) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', timeout, env: shellEnv });

const isClone = existsSync(join(ROOT, '.git'));
const reachable = isClone && npm(['ping'], ROOT, 20_000).status === 0;
// In CI the registry must be there: a skip would hide a broken install.
const clonable = requireOrSkip('a git checkout (to clone) and a reachable npm registry', isClone && reachable);

/** npm's warning lines, less deprecation notices about dependencies (not about this project). */
const warnings = (out: string) => out.split('\n').filter((l) => /^npm warn/i.test(l) && !/^npm warn deprecated /i.test(l));

clonable.describe('npm ci in a fresh clone', () => {
  it('prints no warnings about the project\'s configuration, denies onnxruntime-node\'s script and runs the allowed ones', () => {
    const dir = join(tempDir('dv-clone-'), 'depth-video');
    const clone = spawnSync('git', ['clone', '-q', ROOT, dir], { encoding: 'utf8' });
    expect(clone.status, clone.stderr).toBe(0);

    // --foreground-scripts: npm prints a "> pkg@version script" line for every script it runs.
    const ci = npm(['ci', '--foreground-scripts'], dir, 540_000);
    const out = `${ci.stdout}\n${ci.stderr}`;
    expect(ci.status, out.slice(-3000)).toBe(0);
    expect(warnings(out)).toEqual([]);
    // .npmrc sets loglevel=error for the one warning npm 11 gives about the setting npm 10 needs
    // (onnxruntime-node-install=skip). With warnings shown, that must be the only one about the project.
    const shown = npm(['config', 'get', 'fund', '--loglevel=warn'], dir, 60_000);
    expect(warnings(`${shown.stdout}\n${shown.stderr}`).map((l) => l.replace(/\. This will stop working.*$/, ''))).toEqual(['npm warn Unknown project config "onnxruntime-node-install"']);
    expect(out).not.toMatch(/^> onnxruntime-node@/m);
    const platformPkg = `@ffmpeg-installer/${process.platform}-${process.arch}`;
    expect(out).toMatch(new RegExp(`^> ${platformPkg.replace('/', '\\/')}@[\\d.]+ postinstall$`, 'm'));

    const ffmpegPath = spawnSync(process.execPath, ['-p', "require('@ffmpeg-installer/ffmpeg').path"], { cwd: dir, encoding: 'utf8' }).stdout.trim();
    expect(statSync(ffmpegPath).mode & 0o100).toBe(0o100);
    expect(spawnSync(ffmpegPath, ['-version'], { encoding: 'utf8' }).status).toBe(0);
    if (process.platform === 'linux' && process.arch === 'x64') {
      // What onnxruntime-node's script would have downloaded from NuGet.
      expect(existsSync(join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'))).toBe(false);
    }

    // npm reads the project's .npmrc for npx and npm run too.
    const npx = npm(['exec', '--', 'depth-video', '--version'], dir, 60_000);
    expect(npx.status, npx.stderr).toBe(0);
    expect(warnings(`${npx.stdout}\n${npx.stderr}`)).toEqual([]);
  }, 600_000);

  it('npm 10 (Node 20\'s own, which knows no allowScripts) installs too: .npmrc makes onnxruntime-node\'s script skip its CUDA download', () => {
    const dir = join(tempDir('dv-clone10-'), 'depth-video');
    const clone = spawnSync('git', ['clone', '-q', ROOT, dir], { encoding: 'utf8' });
    expect(clone.status, clone.stderr).toBe(0);
    // Without the setting npm 10 runs the script, which fetches from api.nuget.org (unreachable here: npm ci fails).
    const ci = npm(['exec', '--yes', '--package=npm@10', '--', 'npm', 'ci'], dir, 540_000);
    const out = `${ci.stdout}\n${ci.stderr}`;
    expect(ci.status, out.slice(-3000)).toBe(0);
    expect(out).not.toMatch(/nuget/i);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(existsSync(join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1'))).toBe(true);
    }
  }, 600_000);
});

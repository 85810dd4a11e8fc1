import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { writeAtomically } from '../../src/convert/checkpoint/out-file.js';
import { ZipWriter } from '../../src/convert/checkpoint/zip-writer.js';
import { errorLine, ROOT, runCli, tempDir } from '../helpers/media.js';

export const REFERENCE = join(ROOT, '..', 'shared', 'reference');
export const DA_V2_PTH = join(REFERENCE, 'depth-anything-v2-vits', 'depth_anything_v2_vits.pth');
export const MIDAS_REFERENCE = join(REFERENCE, 'midas');

export const hasPython = spawnSync('python3', ['-c', 'import zipfile, pickle'], { stdio: 'ignore' }).status === 0;

/** Writes a zip of the given records, in order, with the project's zip writer (torch.save's layout). */
export function writeZip(path: string, records: Record<string, Uint8Array | string>): void {
  writeAtomically(path, true, (out) => {
    const zip = new ZipWriter(out);
    for (const [name, data] of Object.entries(records)) zip.record(name, data);
    zip.finish();
  });
}

/** The DepthVideoError `fn` throws (fails the test when it throws nothing or something else). */
export function thrown(fn: () => unknown): DepthVideoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DepthVideoError);
    const err = e as DepthVideoError;
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

export function skipReason(path: string): string {
  return existsSync(path) ? '' : `(skipped: ${path} is absent)`;
}

/** Runs `models convert` into a fresh folder and checks the refusal: one line, the exit code, nothing written. Returns the line. */
export async function refusedConversion(ckpt: string, code: number, extra: string[] = []): Promise<string> {
  const outDir = tempDir('dv-convert-out-');
  try {
    const r = await runCli(['models', 'convert', ckpt, '--out', join(outDir, 'm.onnx'), ...extra]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('depth-video:'));
    expect(errors).toHaveLength(1);
    expect(readdirSync(outDir)).toEqual([]);
    return errorLine(r.stderr);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Converts in a fresh process (the built dist/) and reports that process's
 * peak RSS, the parameters and the variant built. The peak is VmHWM: on
 * Linux ru_maxrss keeps the forking parent's peak across exec.
 */
export function convertInChild(checkpoint: string, out: string): { rss: number; parameters: number; variant: string } {
  const entry = pathToFileURL(join(ROOT, 'dist', 'convert', 'index.js')).href;
  const script =
    `const { convertCheckpoint } = await import(${JSON.stringify(entry)});` +
    "const { readFileSync } = await import('node:fs');" +
    "const peak = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return process.resourceUsage().maxRSS * 1024; } };" +
    'const r = await convertCheckpoint(process.argv[1], { out: process.argv[2] });' +
    'process.stdout.write(JSON.stringify({ rss: peak(), parameters: r.parameterCount, variant: r.variant }));';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, checkpoint, out], { encoding: 'utf8', timeout: 1_200_000 });
  if (r.status !== 0) throw new Error(`conversion failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { rss: number; parameters: number; variant: string };
}

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { writeAtomically } from '../../src/convert/checkpoint/out-file.js';
import { ZipWriter } from '../../src/convert/checkpoint/zip-writer.js';
import { errorLine, runCli, tempDir } from '../helpers/media.js';
import { requirePython, sharedDir } from '../helpers/prerequisites.js';

export const REFERENCE = sharedDir('reference');
export const DA_V2_PTH = join(REFERENCE, 'depth-anything-v2-vits', 'depth_anything_v2_vits.pth');
export const MIDAS_REFERENCE = join(REFERENCE, 'midas');

/** Python 3's own zipfile and pickle read what the checkpoint writer writes. */
export const python = requirePython('zipfile, pickle', 'apt-get install python3');

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

/** Runs `models convert` into a fresh folder and checks the refusal: one line, the exit code, nothing written. */
export async function refused(ckpt: string, code: number, extra: string[] = []): Promise<string> {
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

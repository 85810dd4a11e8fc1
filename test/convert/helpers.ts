import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { writeAtomically } from '../../src/convert/checkpoint/out-file.js';
import { ZipWriter } from '../../src/convert/checkpoint/zip-writer.js';
import { ROOT } from '../helpers/media.js';

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

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Points TMPDIR at a private folder for the enclosing describe block (the
 * FIFOs go to the temporary folder: an empty private one shows that nothing
 * was left there) and removes it afterwards; call the result for its path.
 */
export function privateTmpdir(prefix: string): () => string {
  let dir = '';
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.TMPDIR;
    dir = mkdtempSync(join(tmpdir(), prefix));
    process.env.TMPDIR = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

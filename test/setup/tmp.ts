import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest globalSetup: every temporary file of a test run (the tests' own
 * folders, two `npm ci` clones of half a gigabyte each, what the code under
 * test makes with mkdtemp) goes into one folder, removed when the run ends.
 * The test files run in child processes, which inherit TMPDIR from here.
 * Without it each full run left about 1.5 GB behind in /tmp.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'depth-video-tests-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  };
}

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { ROOT } from './media.js';

/**
 * THE way a test depends on something outside the repository (a Debian
 * package, a Python module, ../shared/reference, ../shared/media). Never use
 * describe.skipIf / it.skipIf for that: declare the prerequisite here, then
 * use its describe / it.
 *
 *   const chromium = requireOrSkip('Chromium at /usr/bin/chromium (apt-get install chromium)', existsSync('/usr/bin/chromium'));
 *   chromium.describe('preview page in Chromium', () => { ... });
 *   chromium.it('a real photo gives a depth image', () => { ... });
 *
 * - present: plain vitest describe / it;
 * - missing on a developer machine: skipped, with the reason in the test's
 *   name ("… [skipped: needs Chromium at …]") and one line on stderr;
 * - missing under CI=true: one FAILING test per block naming what is missing,
 *   because CI must not pass by skipping. `.ci/run` lists every skipped test
 *   by name, so the reasons show in CI's log.
 */
export interface Prerequisite {
  readonly available: boolean;
  readonly what: string;
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => unknown, timeoutMs?: number): void;
}

/** CI runs (.ci/run, GitHub Actions, …) set CI=true. */
export const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

const warned = new Set<string>();

export function requireOrSkip(what: string, available: boolean): Prerequisite {
  const missing = (): void => {
    if (warned.has(what)) return;
    warned.add(what);
    process.stderr.write(inCI ? `missing under CI=true: ${what}; the tests that need it fail\n` : `skipping the tests that need ${what}: not available here\n`);
  };
  const failing = (name: string) => () => {
    throw new Error(`CI=true and a prerequisite is missing: ${what} (${name} cannot run; install it in .ci/run)`);
  };
  const tag = (name: string) => `${name} [skipped: needs ${what}]`;
  return {
    available,
    what,
    describe(name, fn) {
      if (available) { describe(name, fn); return; }
      missing();
      if (inCI) describe(name, () => { it(`needs ${what}`, failing(name)); });
      else describe.skip(tag(name), fn);
    },
    it(name, fn, timeoutMs) {
      if (available) { it(name, fn, timeoutMs); return; }
      missing();
      if (inCI) it(name, failing(name));
      else it.skip(tag(name), fn);
    },
  };
}

/** ../shared/<name> next to the checkout (reference checkpoints and outputs, real photos); read it, never copy it into the repo. */
export function sharedDir(name: 'reference' | 'media'): string {
  return join(ROOT, '..', 'shared', name);
}

/** A prerequisite on a non-empty ../shared/<name>. */
export function requireShared(name: 'reference' | 'media'): Prerequisite {
  const dir = sharedDir(name);
  const present = existsSync(dir) && readdirSync(dir).length > 0;
  return requireOrSkip(`../shared/${name} (${dir})`, present);
}

/** A prerequisite on an executable, e.g. requireProgram('/usr/bin/fswebcam', 'apt-get install fswebcam'). */
export function requireProgram(path: string, install: string): Prerequisite {
  return requireOrSkip(`${path} (${install})`, existsSync(path));
}

/** A prerequisite on a Python 3 module, e.g. requirePython('numpy', 'apt-get install python3-numpy'). */
export function requirePython(module: string, install: string): Prerequisite {
  const ok = spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
  return requireOrSkip(`python3 with ${module} (${install})`, ok);
}

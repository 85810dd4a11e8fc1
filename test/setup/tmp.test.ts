import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.js';

describe('the test run\'s temporary folder', () => {
  it('is a folder of the run\'s own (test/setup/tmp.ts), so the run leaves nothing in the system\'s', () => {
    expect(basename(tmpdir())).toMatch(/^depth-video-tests-/);
    expect(dirname(tempDir())).toBe(tmpdir());
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STAMP, sourceHash } from '../../scripts/source-hash.mjs';

describe('the build the CLI tests run', () => {
  it('is the build of the sources as they are now (globalSetup rebuilds a stale dist/)', () => {
    expect(readFileSync(STAMP, 'utf8'), 'dist/ was built from other sources: the CLI tests would test stale code').toBe(sourceHash());
  });
});

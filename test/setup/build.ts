import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT, STAMP, sourceHash } from '../../scripts/source-hash.mjs';

/**
 * vitest globalSetup: the CLI tests run the built dist/, so a bare
 * `npx vitest run` after editing src/ would test stale code. This runs
 * `npm run build` whenever what the build reads changed since the last build
 * (content hash in dist/.source-hash, written by the build itself). Up to
 * date, it costs one hash over src/ (a few ms); a build takes 6-10 s here.
 */
export default function setup(): void {
  const want = sourceHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === want) return;
  const t0 = performance.now();
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed; the tests run dist/, so they cannot start:\n${r.stdout}${r.stderr}`);
  console.log(`built dist/ for the tests in ${((performance.now() - t0) / 1000).toFixed(1)} s (the sources changed since the last build)`);
}

// The content hash of everything `npm run build` reads. `npm run build` ends
// with `node scripts/source-hash.mjs --write`, which stores it in
// dist/.source-hash; the tests' globalSetup (test/setup/build.ts) rebuilds
// when the stored hash is not the current one, so `npx vitest run` never
// tests a stale dist/.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STAMP = join(ROOT, 'dist', '.source-hash');
const INPUTS = ['src', 'scripts', 'tsconfig.json', 'package.json'];

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => files(join(path, name)));
}

export function sourceHash() {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap((p) => files(join(ROOT, p))).sort()) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
  }
  return h.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(STAMP, sourceHash());
}

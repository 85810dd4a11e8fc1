import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/media.js';

// 64 tensors of 4 Mi float32 (16 MiB each): a 1 GiB checkpoint. Built code (dist/) runs in a child so that
// its peak RSS is its own, not the test runner's.
const TENSORS = 64;
const ELEMENTS = 4 * 1024 * 1024;
const LIB = pathToFileURL(join(ROOT, 'dist', 'convert', 'checkpoint', 'index.js')).href;

// Element j of tensor i is i + (j mod 1024)/1024: exact in float32, and a misplaced read changes the sums.
const PATTERN = `(i) => { const a = new Float32Array(${ELEMENTS}); for (let j = 0; j < a.length; j++) a[j] = i + (j & 1023) / 1024; return a; }`;

const WRITE = `
import { writeTorchCheckpoint } from '${LIB}';
const fill = ${PATTERN};
function* entries() {
  for (let i = 0; i < ${TENSORS}; i++) yield { key: 'layer' + i + '.weight', dtype: 'float32', shape: [${ELEMENTS / 1024}, 1024], data: () => fill(i) };
}
writeTorchCheckpoint(process.argv[1], entries());
console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`;

const READ = `
import { openCheckpoint } from '${LIB}';
const ck = openCheckpoint(process.argv[1]);
const sums = [];
for (const t of ck.tensors.values()) {
  const d = t.readFloat32();
  let s = 0;
  for (let j = 0; j < d.length; j++) s += d[j];
  sums.push(s);
}
ck.close();
console.log(JSON.stringify({ sums, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`;

function child(script: string, path: string): { maxRssMiB: number; sums?: number[] } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, path], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { maxRssMiB: number; sums?: number[] };
}

describe('streaming: a 1 GiB checkpoint is written and read one tensor at a time', () => {
  let dir: string;
  let path: string;
  beforeAll(() => {
    dir = tempDir('dv-ckpt-stream-');
    path = join(dir, 'large.pth');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('peak RSS of writing and of reading every tensor stays far below the file size, and every value arrives', () => {
    const written = child(WRITE, path);
    const fileMiB = statSync(path).size / 2 ** 20;
    expect(fileMiB).toBeGreaterThan(1024);
    const read = child(READ, path);
    const rowSum = (ELEMENTS / 1024) * (1023 * 1024 / 2 / 1024);
    expect(read.sums).toEqual(Array.from({ length: TENSORS }, (_, i) => i * ELEMENTS + rowSum));
    console.log(`1 GiB checkpoint: writer peak RSS ${written.maxRssMiB.toFixed(0)} MiB, reader ${read.maxRssMiB.toFixed(0)} MiB (file ${fileMiB.toFixed(0)} MiB)`);
    // One 16 MiB tensor (plus its float32 copy while reading) at a time, on top of Node's own ~50 MiB.
    expect(written.maxRssMiB).toBeLessThan(fileMiB / 4);
    expect(read.maxRssMiB).toBeLessThan(fileMiB / 4);
  });
});

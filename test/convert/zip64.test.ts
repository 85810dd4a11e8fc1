import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { RandomAccessFile } from '../../src/convert/checkpoint/file.js';
import { ZipArchive } from '../../src/convert/checkpoint/zip.js';
import { tempDir } from '../helpers/media.js';
import { python } from './helpers.js';

// 1.1 G float32 elements: a 4.4 GB storage record, past every 32-bit zip field.
const BIG = 1_100_000_000;

/**
 * A checkpoint over 4 GiB (as Depth-Anything ViT-G's is) without spending
 * 4 GiB of disk or memory: the big tensor is zeros, written as a hole in a
 * sparse file, and the tensors after it sit at offsets past 4 GiB.
 */
describe('zip64: a 4.4 GB checkpoint in a sparse file', () => {
  let dir: string;
  let path: string;
  beforeAll(() => {
    dir = tempDir('dv-ckpt-z64-');
    path = join(dir, 'huge.pth');
    writeTorchCheckpoint(path, [
      { key: 'huge.weight', dtype: 'float32', shape: [BIG] },
      { key: 'huge.tail', viewOf: 'huge.weight', shape: [2, 2], stride: [2, 1], offset: BIG - 4 },
      { key: 'after.weight', dtype: 'float32', shape: [5], data: Float32Array.from([1, -2, 3.5, 4, 5]) },
      { key: 'after.index', dtype: 'int64', shape: [2], data: BigInt64Array.from([7n, -9n]) },
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the file is over 4 GiB long but takes almost no disk', () => {
    const st = statSync(path);
    expect(st.size).toBeGreaterThan(BIG * 4);
    expect(st.blocks * 512).toBeLessThan(16 * 1024 * 1024);
  });

  it('its central directory uses zip64 sizes and offsets, and tensors past 4 GiB read exactly', () => {
    const file = new RandomAccessFile(path);
    const zip = new ZipArchive(file);
    const big = zip.entries.get('huge/data/0')!;
    const after = zip.entries.get('huge/data/1')!;
    expect(big.size).toBe(BIG * 4);
    expect(after.localHeaderOffset).toBeGreaterThan(2 ** 32);
    expect(zip.dataOffset(after) % 64).toBe(0);
    file.close();

    const ck = openCheckpoint(path);
    try {
      expect([...ck.tensors.keys()]).toEqual(['huge.weight', 'huge.tail', 'after.weight', 'after.index']);
      expect(ck.tensors.get('huge.weight')!.size).toBe(BIG);
      expect([...ck.tensors.get('huge.tail')!.readFloat32()]).toEqual([0, 0, 0, 0]);
      expect([...ck.tensors.get('after.weight')!.readFloat32()]).toEqual([1, -2, 3.5, 4, 5]);
      expect([...ck.tensors.get('after.index')!.readInt64()]).toEqual([7n, -9n]);
    } finally {
      ck.close();
    }
  });

  python.it("Python's zipfile reads the same zip64 layout (sizes, offsets, the small records' CRCs)", () => {
    const script = `
import sys, zipfile, struct
z = zipfile.ZipFile(sys.argv[1])
i = {x.filename: x for x in z.infolist()}
print(i['huge/data/0'].file_size, i['huge/data/1'].header_offset > 2**32, struct.unpack('<5f', z.read('huge/data/1')), z.read('huge/version'))
`;
    const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${BIG * 4} True (1.0, -2.0, 3.5, 4.0, 5.0) b'3\\n'`);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/sinks/recorder/index.js';
import { requirePython } from '../helpers/prerequisites.js';
import { rng, tempDir } from './helpers.js';

const numpy = requirePython('numpy', 'apt-get install python3-numpy');

function sample(h: number, w: number): Float32Array {
  const r = rng(42);
  const d = new Float32Array(h * w);
  for (let i = 0; i < d.length; i++) d[i] = (r() - 0.3) * 1000;
  d[0] = -0;
  d[1] = 1e-40; // subnormal
  d[2] = 3.4028234663852886e38;
  d[3] = -1.5;
  return d;
}

describe('npy', () => {
  it('writes the exact v1.0 layout numpy writes', () => {
    const dir = tempDir('npy');
    const file = join(dir, 'a.npy');
    const data = sample(7, 5);
    writeNpy(file, data, [7, 5]);
    const buf = readFileSync(file);
    expect(Array.from(buf.subarray(0, 6))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
    expect([buf[6], buf[7]]).toEqual([1, 0]);
    const headerLen = buf.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    const header = buf.toString('latin1', 10, 10 + headerLen);
    expect(header.endsWith('\n')).toBe(true);
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (7, 5), }");
    expect(buf.length).toBe(10 + headerLen + 7 * 5 * 4);
    for (let i = 0; i < data.length; i++) expect(Object.is(buf.readFloatLE(10 + headerLen + i * 4), data[i])).toBe(true);
    const back = readNpy(file);
    expect(back.shape).toEqual([7, 5]);
    expect(Buffer.from(back.data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
  });

  it('writes 1-D shapes as a Python 1-tuple', () => {
    const file = join(tempDir('npy1'), 'b.npy');
    writeNpy(file, Float32Array.of(1, 2, 3), [3]);
    const buf = readFileSync(file);
    expect(buf.toString('latin1', 10, 10 + buf.readUInt16LE(8))).toContain("'shape': (3,), }");
    expect(Array.from(readNpy(file).data)).toEqual([1, 2, 3]);
  });

  numpy.it('is loaded by numpy.load with the same values, and reads numpy-written files', () => {
    const dir = tempDir('npynp');
    const ours = join(dir, 'ours.npy');
    const theirs = join(dir, 'theirs.npy');
    const data = sample(6, 4);
    writeNpy(ours, data, [6, 4]);
    const script = [
      'import numpy as np, sys',
      `a = np.load(${JSON.stringify(ours)})`,
      "assert a.dtype == np.dtype('<f4') and a.shape == (6, 4) and a.flags['C_CONTIGUOUS'], (a.dtype, a.shape)",
      'sys.stdout.write(a.tobytes().hex())',
      `np.save(${JSON.stringify(theirs)}, (np.arange(12, dtype='<f4').reshape(3, 4) * 0.5))`,
    ].join('\n');
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(Buffer.from(data.buffer).toString('hex'));
    const back = readNpy(theirs);
    expect(back.shape).toEqual([3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from({ length: 12 }, (_, i) => i * 0.5));
  });
});

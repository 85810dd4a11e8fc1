import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  openCheckpoint,
  writeSafetensors,
  writeTorchCheckpoint,
  type TensorData,
  type TensorDType,
  type TensorEntry,
} from '../../src/convert/checkpoint/index.js';
import { RandomAccessFile } from '../../src/convert/checkpoint/file.js';
import { ZipArchive } from '../../src/convert/checkpoint/zip.js';
import { tempDir } from '../helpers/media.js';
import { python, thrown } from './helpers.js';

// Edge values per dtype, as the bits or numbers the file holds, with the float32 each must read as.
const F16 = Uint16Array.from([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x3555]);
const F16_AS_F32 = [0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, -2, 65504, Infinity, -Infinity, 0.333251953125];
const BF16 = Uint16Array.from([0x0000, 0x8000, 0x0001, 0x3f80, 0xc040, 0x7f7f, 0x7f80, 0xff80, 0x3eab]);
const BF16_AS_F32 = [0, -0, 2 ** -133, 1, -3, 3.3895313892515355e38, Infinity, -Infinity, 0.333984375];
const F64 = Float64Array.from([1 / 3, -2.5, 1e300, 1e-50, 16777217]);
const F32 = Float32Array.from([1.5, -0, 3.4028234663852886e38, 1.401298464324817e-45, -7]);

const cases: { dtype: TensorDType; data: TensorData; float: number[]; int?: bigint[] }[] = [
  { dtype: 'float32', data: F32, float: [...F32] },
  { dtype: 'float16', data: F16, float: F16_AS_F32 },
  { dtype: 'bfloat16', data: BF16, float: BF16_AS_F32 },
  // float64 rounds to nearest float32: 1e300 overflows, 1e-50 underflows, 2^24+1 rounds to even.
  { dtype: 'float64', data: F64, float: [Math.fround(1 / 3), -2.5, Infinity, 0, 16777216] },
  { dtype: 'int64', data: BigInt64Array.from([0n, -1n, 9007199254740993n, -(2n ** 63n)]), float: [0, -1, 9007199254740992, -(2 ** 63)], int: [0n, -1n, 9007199254740993n, -(2n ** 63n)] },
  { dtype: 'int32', data: Int32Array.from([0, -1, 2147483647, -2147483648]), float: [0, -1, 2147483648, -2147483648], int: [0n, -1n, 2147483647n, -2147483648n] },
  { dtype: 'int16', data: Int16Array.from([0, -1, 32767, -32768]), float: [0, -1, 32767, -32768], int: [0n, -1n, 32767n, -32768n] },
  { dtype: 'int8', data: Int8Array.from([0, -1, 127, -128]), float: [0, -1, 127, -128], int: [0n, -1n, 127n, -128n] },
  { dtype: 'uint8', data: Uint8Array.from([0, 1, 255]), float: [0, 1, 255], int: [0n, 1n, 255n] },
  { dtype: 'bool', data: Uint8Array.from([1, 0, 1]), float: [1, 0, 1], int: [1n, 0n, 1n] },
];

const same = (got: Float32Array, want: number[]): boolean => got.length === want.length && want.every((w, i) => Object.is(got[i], w));

describe('write → read round trips', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('dv-ckpt-');
  });

  for (const format of ['torch-zip', 'safetensors'] as const) {
    it(`${format}: every dtype reads back exactly, edge values included (f16/bf16 subnormals, ±0, ±inf; float64 rounding)`, () => {
      const path = join(dir, `dtypes.${format === 'torch-zip' ? 'pth' : 'safetensors'}`);
      const entries: TensorEntry[] = cases.map((c) => ({ key: `t.${c.dtype}`, dtype: c.dtype, shape: [c.data.length], data: c.data }));
      // A scalar and an empty tensor too.
      entries.push({ key: 'scalar', dtype: 'int64', shape: [], data: BigInt64Array.from([42n]) }, { key: 'empty', dtype: 'float32', shape: [0, 3], data: new Float32Array(0) });
      if (format === 'torch-zip') writeTorchCheckpoint(path, entries);
      else writeSafetensors(path, entries);
      const ck = openCheckpoint(path);
      try {
        expect(ck.format).toBe(format);
        expect([...ck.tensors.keys()]).toEqual(entries.map((e) => e.key));
        for (const c of cases) {
          const t = ck.tensors.get(`t.${c.dtype}`)!;
          expect(t.dtype).toBe(c.dtype);
          expect(t.shape).toEqual([c.data.length]);
          const f = t.readFloat32();
          expect(same(f, c.float), `${c.dtype}: ${[...f]} vs ${c.float}`).toBe(true);
          if (c.int) expect([...t.readInt64()]).toEqual(c.int);
          else expect(() => t.readInt64()).toThrow(/readFloat32/);
        }
        const scalar = ck.tensors.get('scalar')!;
        expect(scalar.shape).toEqual([]);
        expect(scalar.size).toBe(1);
        expect([...scalar.readInt64()]).toEqual([42n]);
        expect(ck.tensors.get('empty')!.readFloat32().length).toBe(0);
      } finally {
        ck.close();
      }
    });
  }

  it('non-contiguous views and a shared storage read as torch would index them, from one storage record', () => {
    const base = Float32Array.from({ length: 4 * 6 }, (_, i) => i * 1.5 - 7);
    const path = join(dir, 'views.pth');
    writeTorchCheckpoint(path, [
      { key: 'base', dtype: 'float32', shape: [4, 6], data: base },
      { key: 'transposed', viewOf: 'base', shape: [6, 4], stride: [1, 6], offset: 0 },
      // base[1:3, ::2]
      { key: 'sliced', viewOf: 'base', shape: [2, 3], stride: [6, 2], offset: 6 },
      // a 3-D view with a broadcast (stride 0) dimension
      { key: 'cube', viewOf: 'base', shape: [2, 2, 3], stride: [12, 0, 1], offset: 1 },
      { key: 'element', viewOf: 'base', shape: [], stride: [], offset: 23 },
      { key: 'row', viewOf: 'base', shape: [6], stride: [1], offset: 18 },
    ]);
    const at = (offset: number, shape: number[], stride: number[]): number[] => {
      const out: number[] = [];
      const walk = (d: number, o: number): void => {
        if (d === shape.length) return void out.push(base[o]!);
        for (let i = 0; i < shape[d]!; i++) walk(d + 1, o + i * stride[d]!);
      };
      walk(0, offset);
      return out;
    };
    const ck = openCheckpoint(path);
    try {
      expect([...ck.tensors.get('base')!.readFloat32()]).toEqual([...base]);
      expect([...ck.tensors.get('transposed')!.readFloat32()]).toEqual(at(0, [6, 4], [1, 6]));
      expect([...ck.tensors.get('sliced')!.readFloat32()]).toEqual(at(6, [2, 3], [6, 2]));
      expect([...ck.tensors.get('cube')!.readFloat32()]).toEqual(at(1, [2, 2, 3], [12, 0, 1]));
      expect([...ck.tensors.get('element')!.readFloat32()]).toEqual([base[23]]);
      expect([...ck.tensors.get('row')!.readFloat32()]).toEqual([...base.subarray(18, 24)]);
      expect(ck.tensors.get('transposed')!.shape).toEqual([6, 4]);
    } finally {
      ck.close();
    }
    const file = new RandomAccessFile(path);
    const records = [...new ZipArchive(file).entries.keys()].filter((n) => n.includes('/data/'));
    file.close();
    expect(records).toEqual(['views/data/0']);
  });

  it('wrapper dicts are unwrapped and named: {model: sd}, {state_dict: sd}, {model: {state_dict: sd}}; a bare state dict has none', () => {
    const sd: TensorEntry[] = [{ key: 'w', dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]) }];
    const variants: [readonly string[] | undefined, string | null][] = [
      [undefined, null],
      [['model'], 'model'],
      [['state_dict'], 'state_dict'],
      [['model', 'state_dict'], 'model/state_dict'],
    ];
    for (const [wrapper, name] of variants) {
      const path = join(dir, `wrapped-${name ?? 'none'}.pth`.replace('/', '-'));
      writeTorchCheckpoint(path, sd, { wrapper, extras: wrapper ? { epoch: 3, best: 0.25, note: 'x', ema: null } : undefined });
      const ck = openCheckpoint(path);
      expect(ck.wrapper).toBe(name);
      expect([...ck.tensors.keys()]).toEqual(['w']);
      expect([...ck.tensors.get('w')!.readFloat32()]).toEqual([1, 2]);
      ck.close();
    }
  });

  it("a big-endian file (byteorder record 'big') reads the same values; without the record the bytes would be wrong", () => {
    const path = join(dir, 'big.pth');
    const f = Float32Array.from([1.5, -2, 3.25]);
    const h = Uint16Array.from([0x3c00, 0xc000]);
    const l = BigInt64Array.from([1n, -300n]);
    writeTorchCheckpoint(path, [
      { key: 'f', dtype: 'float32', shape: [3], data: f },
      { key: 'h', dtype: 'float16', shape: [2], data: h },
      { key: 'l', dtype: 'int64', shape: [2], data: l },
    ], { byteorder: 'big' });
    const ck = openCheckpoint(path);
    expect([...ck.tensors.get('f')!.readFloat32()]).toEqual([1.5, -2, 3.25]);
    expect([...ck.tensors.get('h')!.readFloat32()]).toEqual([1, -2]);
    expect([...ck.tensors.get('l')!.readInt64()]).toEqual([1n, -300n]);
    ck.close();
  });

  it('lazy data is generated only while its tensor is written, one at a time, and the write is atomic', () => {
    const path = join(dir, 'lazy.pth');
    const calls: string[] = [];
    const entries: TensorEntry[] = ['a', 'b', 'c'].map((k, i) => ({
      key: k,
      dtype: 'float32',
      shape: [3],
      data: () => {
        calls.push(k);
        return Float32Array.from([i, i, i]);
      },
    }));
    writeTorchCheckpoint(path, entries);
    expect(calls).toEqual(['a', 'b', 'c']);
    const ck = openCheckpoint(path);
    expect([...ck.tensors.get('c')!.readFloat32()]).toEqual([2, 2, 2]);
    ck.close();
    // An existing file is not replaced without overwrite, and a failed write leaves no temp file behind.
    expect(thrown(() => writeTorchCheckpoint(path, entries)).code).toBe('OUTPUT_EXISTS');
    const bad: TensorEntry[] = [{ key: 'x', dtype: 'float32', shape: [4], data: () => new Float32Array(3) }];
    expect(() => writeTorchCheckpoint(join(dir, 'bad.pth'), bad)).toThrow(/4 elements but its data has 3/);
    expect(existsSync(join(dir, 'bad.pth'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  python.it('Python reads the written zip (CRCs, names) and unpickles data.pkl to the same state dict with torch stand-ins', () => {
    const path = join(dir, 'py.pth');
    writeTorchCheckpoint(path, [
      { key: 'enc.w', dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      { key: 'enc.wt', viewOf: 'enc.w', shape: [2, 2], stride: [1, 2], offset: 0 },
      { key: 'bn.num_batches_tracked', dtype: 'int64', shape: [], data: BigInt64Array.from([7n]) },
    ], { wrapper: ['model'], extras: { epoch: 2 } });
    // The stand-ins only record what torch.load would be asked to build.
    const script = `
import sys, zipfile, pickle, struct, collections
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
class Unp(pickle.Unpickler):
    def find_class(self, mod, name):
        if (mod, name) == ('collections', 'OrderedDict'): return collections.OrderedDict
        if (mod, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return lambda st, off, size, stride, rg, hooks: ('tensor', st, off, size, stride)
        if mod == 'torch': return name
        raise pickle.UnpicklingError(mod + '.' + name)
    def persistent_load(self, pid):
        kind, typ, key, loc, numel = pid
        data = z.read('py/data/' + key)
        return (typ, key, loc, numel, len(data))
obj = Unp(z.open('py/data.pkl')).load()
sd = obj['model']
print(obj['epoch'], list(sd.keys()), [sd[k][1:] for k in sd], getattr(sd, '_metadata', None) is not None, names)
`;
    const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(
      "2 ['enc.w', 'enc.wt', 'bn.num_batches_tracked'] [(('FloatStorage', '0', 'cpu', 4, 16), 0, (2, 2), (2, 1)), (('FloatStorage', '0', 'cpu', 4, 16), 0, (2, 2), (1, 2)), (('LongStorage', '1', 'cpu', 1, 8), 0, (), ())] True " +
        "['py/data.pkl', 'py/.format_version', 'py/.storage_alignment', 'py/byteorder', 'py/data/0', 'py/data/1', 'py/version', 'py/.data/serialization_id']",
    );
  });
});

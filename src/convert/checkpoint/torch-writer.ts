import { basename, extname } from 'node:path';
import { createHash } from 'node:crypto';
import { DTYPE_BYTES, dataBytes, elementCount, swapBytes } from './dtype.js';
import { writeAtomically } from './out-file.js';
import { PickleWriter } from './pickle-writer.js';
import { contiguousStride, spanElements } from './tensor.js';
import type { CheckpointEntry, TensorDType, TensorEntry, WriteTorchOptions } from './types.js';
import { ZipWriter } from './zip-writer.js';

const STORAGE_TYPE: Readonly<Record<TensorDType, string>> = {
  float32: 'FloatStorage', float64: 'DoubleStorage', float16: 'HalfStorage', bfloat16: 'BFloat16Storage', int64: 'LongStorage',
  int32: 'IntStorage', int16: 'ShortStorage', int8: 'CharStorage', uint8: 'ByteStorage', bool: 'BoolStorage',
};

interface Planned {
  key: string;
  storage: number;
  dtype: TensorDType;
  shape: readonly number[];
  stride: readonly number[];
  offset: number;
}

/** data.pkl for the planned tensors: what torch.save(state_dict) pickles. */
function statePickle(plan: readonly Planned[], storages: readonly TensorEntry[], opts: WriteTorchOptions): Buffer {
  const p = new PickleWriter();
  const wrapper = opts.wrapper ?? [];
  const extras = Object.entries(opts.extras ?? {});
  // Wrapper dicts are plain dicts: EMPTY_DICT, then (key, value) pairs; the innermost value is the OrderedDict.
  wrapper.forEach((key, depth) => {
    p.emptyDict();
    if (depth === 0 && extras.length > 0) {
      p.mark();
      for (const [k, v] of extras) p.str(k).value(v);
    }
    p.str(key);
  });
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.mark();
  for (const t of plan) {
    const base = storages[t.storage]!;
    p.str(t.key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    p.mark().str('storage').global('torch', STORAGE_TYPE[base.dtype]).str(String(t.storage)).str('cpu').int(elementCount(base.shape)).tuple();
    p.binpersid();
    p.int(t.offset).intTuple(t.shape).intTuple(t.stride).bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
  }
  p.setitems();
  // The OrderedDict's _metadata (module versions), set by BUILD as torch does.
  const prefixes = [''];
  for (const t of plan) {
    const prefix = t.key.slice(0, Math.max(0, t.key.lastIndexOf('.')));
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
  }
  p.emptyDict().str('_metadata');
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.mark();
  for (const prefix of prefixes) p.str(prefix).emptyDict().str('version').int(1).setitem();
  p.setitems().setitem().build();
  for (let depth = wrapper.length - 1; depth >= 0; depth--) {
    if (depth === 0 && extras.length > 0) p.setitems();
    else p.setitem();
  }
  return p.stop();
}

/**
 * Writes tensors as torch.save(state_dict, path) does on PyTorch 2.x: a zip
 * holding `<archive>/data.pkl` (protocol 2), `.format_version`,
 * `.storage_alignment`, `byteorder`, one 64-byte aligned `data/<n>` record
 * per storage, `version` and `.data/serialization_id`. Entries may share a
 * storage (TensorViewEntry). Lazy `data` functions are called one at a time,
 * while their storage is written, so a large checkpoint streams.
 */
export function writeTorchCheckpoint(path: string, entries: Iterable<CheckpointEntry>, opts: WriteTorchOptions = {}): void {
  if (opts.extras && !opts.wrapper?.length) throw new TypeError('extras need a wrapper: the top level of a bare state dict holds tensors only');
  const storages: TensorEntry[] = [];
  const storageOf = new Map<string, number>();
  const plan: Planned[] = [];
  for (const e of entries) {
    if (storageOf.has(e.key)) throw new Error(`${e.key} is given twice`);
    if ('viewOf' in e) {
      const s = storageOf.get(e.viewOf);
      if (s === undefined) throw new Error(`${e.key} is a view of ${e.viewOf}, which is not an earlier entry`);
      const base = storages[s]!;
      if (e.stride.length !== e.shape.length) throw new RangeError(`${e.key}: shape and stride differ in length`);
      if (e.offset + spanElements(e.shape, e.stride) > elementCount(base.shape)) throw new RangeError(`${e.key} reaches past the end of ${e.viewOf}`);
      storageOf.set(e.key, s);
      plan.push({ key: e.key, storage: s, dtype: base.dtype, shape: e.shape, stride: e.stride, offset: e.offset });
    } else {
      storageOf.set(e.key, storages.length);
      plan.push({ key: e.key, storage: storages.length, dtype: e.dtype, shape: e.shape, stride: contiguousStride(e.shape), offset: 0 });
      storages.push(e);
    }
  }
  const archive = opts.archiveName ?? basename(path, extname(path));
  const byteorder = opts.byteorder === undefined ? 'little' : opts.byteorder;
  const pkl = statePickle(plan, storages, opts);
  writeAtomically(path, opts.overwrite ?? false, (out) => {
    const zip = new ZipWriter(out);
    zip.record(`${archive}/data.pkl`, pkl);
    zip.record(`${archive}/.format_version`, '1');
    zip.record(`${archive}/.storage_alignment`, '64');
    if (byteorder !== null) zip.record(`${archive}/byteorder`, byteorder);
    storages.forEach((s, i) => {
      const size = elementCount(s.shape);
      const bytes = size * DTYPE_BYTES[s.dtype];
      zip.begin(`${archive}/data/${i}`, bytes);
      const data = typeof s.data === 'function' ? s.data() : s.data;
      if (data === undefined) zip.zeros(bytes);
      else {
        let b = dataBytes(s.key, s.dtype, size, data);
        if (byteorder === 'big' && DTYPE_BYTES[s.dtype] > 1) {
          b = Uint8Array.from(b);
          swapBytes(b, DTYPE_BYTES[s.dtype]);
        }
        zip.write(b);
      }
      zip.end();
    });
    zip.record(`${archive}/version`, '3\n');
    zip.record(`${archive}/.data/serialization_id`, createHash('sha1').update(pkl).digest('hex'));
    zip.finish();
  });
}

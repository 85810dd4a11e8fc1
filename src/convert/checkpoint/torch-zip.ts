import { DTYPE_BYTES } from './dtype.js';
import { damagedCheckpoint, invalidCheckpoint, refusedGlobal, torchScriptArchive, wholePickledModel } from './errors.js';
import type { RandomAccessFile } from './file.js';
import { PickleError, PyDict, unpickle } from './pickle.js';
import { StoredTensor, spanElements, type ByteSource } from './tensor.js';
import { classifyForeign, isTensorRecord, torchPickleHooks, type TensorRecord } from './torch-pickle.js';
import type { TensorRef } from './types.js';
import { ZipArchive } from './zip.js';

// Keys under which training scripts keep the model's state dict, most specific first.
const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'params', 'weights'];

export interface OpenedStateDict {
  readonly tensors: Map<string, TensorRef>;
  readonly wrapper: string | null;
}

/** Finds the state dict: the first dict, from the top down through wrapper keys, that holds tensors. */
function findStateDict(path: string, top: unknown): { dict: PyDict; wrapper: string[] } {
  if (!(top instanceof PyDict)) {
    throw invalidCheckpoint(path, `the file holds a ${Array.isArray(top) ? 'list' : typeof top}, not a state dict; save the model with torch.save(model.state_dict(), path)`);
  }
  const trail: string[] = [];
  let d = top;
  for (;;) {
    if (d.values.some(isTensorRecord)) return { dict: d, wrapper: trail };
    const key = WRAPPER_KEYS.find((k) => d.get(k) instanceof PyDict);
    if (key === undefined) {
      const keys = d.keys.slice(0, 8).map(String).join(', ');
      throw invalidCheckpoint(
        path,
        `no tensors found in ${trail.length ? `'${trail.join('/')}'` : 'the top-level dict'} (keys: ${keys || 'none'}) nor under ${WRAPPER_KEYS.map((k) => `'${k}'`).join(', ')}; ` +
          'save the model with torch.save(model.state_dict(), path)',
      );
    }
    trail.push(key);
    d = d.get(key) as PyDict;
  }
}

/** Opens a torch.save zip: parses data.pkl (nothing executed) and maps each state-dict tensor to its bytes. */
export function openTorchZip(file: RandomAccessFile): OpenedStateDict {
  const path = file.path;
  const zip = new ZipArchive(file);
  const pkl = [...zip.entries.keys()].find((n) => /^([^/]+\/)?data\.pkl$/.test(n));
  if (pkl === undefined) {
    throw invalidCheckpoint(path, 'a zip file but not a PyTorch checkpoint (no data.pkl inside); give the .pt/.pth file that torch.save wrote');
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`) || [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`))) {
    throw torchScriptArchive(path);
  }
  let swap = false;
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order) {
    const text = zip.readEntry(order).toString('latin1').trim();
    if (text === 'big') swap = true;
    else if (text !== 'little') throw invalidCheckpoint(path, `unknown byte order '${text}' in its byteorder record`);
  }

  const malformed = (what: string): Error => invalidCheckpoint(path, `data.pkl is not a state dict pickle: ${what}`);
  let value: unknown;
  let foreign: readonly string[];
  try {
    ({ value, foreign } = unpickle(zip.readEntry(zip.entries.get(pkl)!), torchPickleHooks(malformed)));
  } catch (e) {
    if (!(e instanceof PickleError)) throw e;
    if (e.foreign.length === 0) throw invalidCheckpoint(path, `data.pkl is not a valid pickle: ${e.message}`);
    foreign = e.foreign;
  }
  if (foreign.length > 0) {
    const { kind, global } = classifyForeign(foreign);
    throw kind === 'model' ? wholePickledModel(path, global) : refusedGlobal(path, global);
  }

  const { dict, wrapper } = findStateDict(path, value);
  const records = new Map<string, { source: ByteSource; bytes: number }>();
  const tensors = new Map<string, TensorRef>();
  for (let i = 0; i < dict.size; i++) {
    const t = dict.values[i];
    if (!isTensorRecord(t)) continue;
    const key = String(dict.keys[i]);
    let record = records.get(t.storage.key);
    if (!record) {
      const e = zip.entries.get(`${prefix}data/${t.storage.key}`);
      if (!e) throw damagedCheckpoint(path, `no record data/${t.storage.key} for tensor ${key}`);
      const start = zip.dataOffset(e);
      record = { source: { readInto: (dst, at) => file.readInto(dst, start + at) }, bytes: e.size };
      records.set(t.storage.key, record);
    }
    tensors.set(key, makeTensor(path, key, t, record, swap));
  }
  return { tensors, wrapper: wrapper.length ? wrapper.join('/') : null };
}

/** Checks that a tensor lies inside its storage record and makes its lazy reader. */
function makeTensor(path: string, key: string, t: TensorRecord, record: { source: ByteSource; bytes: number }, swap: boolean): TensorRef {
  if (t.dtype === null) throw invalidCheckpoint(path, `tensor ${key} is stored as ${t.storage.typeName}, a type depth-video does not read`);
  const eb = DTYPE_BYTES[t.dtype];
  const declared = t.storage.dtype === null ? record.bytes : t.storage.numel * DTYPE_BYTES[t.storage.dtype];
  if (declared > record.bytes) throw damagedCheckpoint(path, `storage ${t.storage.key} should hold ${declared} bytes but its record has ${record.bytes}`);
  const byteOffset = t.storageOffset * eb;
  const span = spanElements(t.shape, t.stride);
  if (span > 0 && byteOffset + span * eb > record.bytes) {
    throw invalidCheckpoint(path, `tensor ${key} (shape [${t.shape.join(', ')}]) reaches byte ${byteOffset + span * eb} of storage ${t.storage.key}, which has ${record.bytes}`);
  }
  return new StoredTensor(key, { dtype: t.dtype, shape: t.shape, stride: t.stride, byteOffset }, record.source, swap);
}

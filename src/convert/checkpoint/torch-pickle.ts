/**
 * What torch.save's data.pkl may name, and what those names mean here. A state
 * dict needs OrderedDict, the tensor rebuild functions and the storage types;
 * a few more (torch.Size, dtypes, bytes via _codecs.encode, sets) appear in
 * wrapper dicts and optimizer states. Everything else is refused.
 */
import { PyBytes, PyDict, PySet, type PickleHooks } from './pickle.js';
import type { TensorDType } from './types.js';

/** A storage as its persistent id describes it; `dtype` null for types this reader cannot read. */
export interface StorageRef {
  readonly key: string;
  readonly typeName: string;
  readonly dtype: TensorDType | null;
  /** Elements of `dtype` (bytes for UntypedStorage). */
  readonly numel: number;
}

/** A tensor as its rebuild call describes it. */
export interface TensorRecord {
  readonly storage: StorageRef;
  readonly dtype: TensorDType | null;
  /** In elements of dtype. */
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

class StorageType {
  constructor(readonly name: string, readonly dtype: TensorDType | null) {}
}
class DType {
  constructor(readonly name: string, readonly dtype: TensorDType | null) {}
}
/** A callable or class this reader implements itself. */
class Builtin {
  constructor(readonly name: string) {}
}

const STORAGE_DTYPES: Readonly<Record<string, TensorDType | null>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
  ComplexFloatStorage: null,
  ComplexDoubleStorage: null,
  QInt8Storage: null,
  QUInt8Storage: null,
  QInt32Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
};

const TORCH_DTYPES: Readonly<Record<string, TensorDType>> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};
// Dtypes torch may name that this reader does not read (their tensors are refused if a state dict holds one).
const OTHER_TORCH_DTYPES = new Set([
  'complex32', 'complex64', 'complex128', 'cfloat', 'cdouble', 'uint16', 'uint32', 'uint64', 'float8_e4m3fn',
  'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4',
]);

const REBUILD = new Set(['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter', '_rebuild_parameter_with_state']);

function allowedGlobal(rawModule: string, name: string): unknown {
  // Protocols 0–2 name Python 3's builtins by their Python 2 module, as CPython's unpickler maps them.
  const module = rawModule === '__builtin__' ? 'builtins' : rawModule;
  switch (`${module}.${name}`) {
    case 'collections.OrderedDict':
    case 'torch._tensor._rebuild_from_type_v2':
    case 'torch.nn.parameter.Parameter':
    case 'torch.Size':
    case 'torch.device':
    case 'torch.Tensor':
    case '_codecs.encode':
    case 'builtins.set':
    case 'builtins.frozenset':
    case 'builtins.bytearray':
      return new Builtin(`${module}.${name}`);
  }
  if (module === 'torch._utils' && REBUILD.has(name)) return new Builtin(`${module}.${name}`);
  // Own keys only: `in` would also let through the names every object inherits (constructor, toString, __proto__).
  if ((module === 'torch' || module === 'torch.storage') && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(`torch.${name}`, STORAGE_DTYPES[name]!);
  if (module === 'torch' && Object.hasOwn(TORCH_DTYPES, name)) return new DType(name, TORCH_DTYPES[name]!);
  if (module === 'torch' && OTHER_TORCH_DTYPES.has(name)) return new DType(name, null);
  return undefined;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isIntArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

/** Hooks for unpickle() that turn torch.save's data.pkl into dicts, lists and TensorRecords. */
export function torchPickleHooks(malformed: (what: string) => Error): PickleHooks {
  const tensor = (args: unknown[], dtypeArg?: unknown): TensorRecord => {
    const [storage, storageOffset, shape, stride] = args;
    if (!(storage instanceof StorageRefImpl) || !isInt(storageOffset) || !isIntArray(shape) || !isIntArray(stride) || shape.length !== stride.length) {
      throw malformed('a tensor rebuild call has arguments that are not (storage, offset, size, stride)');
    }
    let dtype = storage.dtype;
    if (dtypeArg !== undefined) {
      if (!(dtypeArg instanceof DType)) throw malformed('_rebuild_tensor_v3 has a dtype argument that is not a torch dtype');
      dtype = dtypeArg.dtype;
    }
    return { storage, dtype, storageOffset, shape, stride };
  };
  return {
    global: allowedGlobal,
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw malformed('a persistent id is not a (\'storage\', type, key, location, numel) tuple');
      const [, type, key, , numel] = pid as unknown[];
      if (!(type instanceof StorageType) || typeof key !== 'string' || !isInt(numel)) throw malformed(`persistent id for storage ${String(key)} is malformed`);
      return new StorageRefImpl(key, type.name, type.dtype, numel);
    },
    call(fn, args) {
      if (fn instanceof StorageType || fn instanceof DType) throw malformed(`the pickle calls ${fn.name}`);
      if (!(fn instanceof Builtin)) throw malformed('the pickle calls something that is not a function');
      switch (fn.name) {
        case 'collections.OrderedDict': {
          const d = new PyDict();
          if (Array.isArray(args[0])) for (const kv of args[0] as unknown[]) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
          return d;
        }
        case 'torch._utils._rebuild_tensor':
        case 'torch._utils._rebuild_tensor_v2':
          return tensor(args);
        case 'torch._utils._rebuild_tensor_v3':
          return tensor(args, args[6]);
        // A Parameter is its tensor here: requires_grad and hooks mean nothing to a reader.
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
        case 'torch.nn.parameter.Parameter':
          return args[0];
        case 'torch._tensor._rebuild_from_type_v2': {
          const [func, , inner] = args;
          if (!Array.isArray(inner)) throw malformed('_rebuild_from_type_v2 has arguments that are not a tuple');
          return this.call(func, inner);
        }
        case 'torch.Size':
          return Array.isArray(args[0]) ? [...(args[0] as unknown[])] : [];
        case 'torch.device':
          return args.map(String).join(':');
        case '_codecs.encode':
          return new PyBytes(Buffer.from(String(args[0] ?? ''), 'latin1'));
        case 'builtins.bytearray':
          return args[0] instanceof PyBytes ? args[0] : new PyBytes(new Uint8Array(0));
        case 'builtins.set':
        case 'builtins.frozenset':
          return new PySet(Array.isArray(args[0]) ? [...(args[0] as unknown[])] : []);
        default:
          throw malformed(`the pickle calls ${fn.name}`);
      }
    },
  };
}

class StorageRefImpl implements StorageRef {
  constructor(readonly key: string, readonly typeName: string, readonly dtype: TensorDType | null, readonly numel: number) {}
}

export function isTensorRecord(v: unknown): v is TensorRecord {
  return typeof v === 'object' && v !== null && 'storage' in v && (v as TensorRecord).storage instanceof StorageRefImpl;
}

// Roots of globals that are never a model's class: the standard library's code-running modules, numpy, torch itself.
const NOT_MODEL_ROOTS = new Set([
  'builtins', '__builtin__', 'os', 'posix', 'nt', 'sys', 'subprocess', 'shutil', 'socket', 'pty', 'runpy', 'importlib',
  'ctypes', 'webbrowser', 'pickle', '_pickle', 'marshal', 'code', 'codeop', 'multiprocessing', 'asyncio', 'commands',
  'popen2', 'pdb', 'bdb', 'timeit', 'platform', 'signal', 'threading', '_thread', 'operator', 'functools', 'types',
  'inspect', 'io', '_io', 'tempfile', 'pathlib', 'glob', 'urllib', 'http', 'ftplib', 'smtplib', 'telnetlib',
  'zipimport', 'imp', 'gc', 'copyreg', 'copy_reg', 'codecs', '_codecs', 'collections', 'numpy', 'torch',
]);

/** torch.nn layers, or a capitalised name from a project's own package (midas.dpt_depth.DPTDepthModel). */
function looksLikeModelClass(global: string): boolean {
  const dot = global.lastIndexOf('.');
  const module = global.slice(0, dot);
  if (module.startsWith('torch.nn.modules.')) return true;
  return /^[A-Z]/.test(global.slice(dot + 1)) && !NOT_MODEL_ROOTS.has(module.split('.')[0]!);
}

/**
 * Which refused global to name, and how: any global that is not a model class
 * (os.system, builtins.eval, …) is refused by name; a pickle whose refused
 * globals are all classes is a whole pickled model.
 */
export function classifyForeign(foreign: readonly string[]): { kind: 'refused' | 'model'; global: string } {
  const other = foreign.find((g) => !looksLikeModelClass(g));
  if (other !== undefined) return { kind: 'refused', global: other };
  return { kind: 'model', global: foreign.find((g) => !g.startsWith('torch.nn.')) ?? foreign[0]! };
}

import type onnx from 'onnx-proto';
import type { PreprocessSpec } from '../types.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../inference/float16.js';

/**
 * Input normalisation baked into an ONNX graph. Some exports wrap the network
 * in a forward that normalises its own input (MiDaS v2.1's
 * tf/make_onnx_model.py subtracts the ImageNet mean and divides by the std
 * before MidasNet, and tf/run_onnx.py then feeds RGB/255): feeding such a
 * graph normalised frames normalises twice. The graph itself says what it
 * does, so it is read from there rather than trusted to a name or manifest.
 */
export interface InGraphNormalization {
  /**
   * What the graph computes on its input, per RGB channel, as
   * (x - mean) / std in the input's own units.
   */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** The range the graph expects: 1 = RGB/255 (0..1), 255 = RGB as 0..255. */
  readonly inputScale: 1 | 255;
  /** The operators found, in graph order, e.g. ['Sub', 'Div']. */
  readonly ops: readonly string[];
}

type Graph = onnx.onnx.IGraphProto;
type Node = onnx.onnx.INodeProto;
type TensorProto = onnx.onnx.ITensorProto;

interface Constant {
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

/**
 * TensorProto.DataType's numbers, as onnx.proto fixes them. Written out so
 * that this module (loaded at start-up, through onnx-info) does not load
 * protobufjs just for them; a test holds them to onnx-proto's enum.
 */
export const DT = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
/** TensorProto.DataLocation.EXTERNAL. */
export const EXTERNAL_DATA = 1;
type LongLike = number | { toNumber(): number };
const toNum = (v: LongLike): number => (typeof v === 'number' ? v : v.toNumber());

/**
 * Normalisation constants hold one value or one per channel, and the shapes
 * and axes around them a few more: anything bigger is a weight, not decoded.
 */
const MAX_VALUES = 8;
/** The bytes of the largest tensor read for its values (8 values of 8 bytes); readers may skip bigger ones. */
export const MAX_CONSTANT_BYTES = MAX_VALUES * 8;

/** Values of a small initializer or Constant tensor; null for other types, external data or a weight-sized tensor. */
function tensorNumbers(t: TensorProto): number[] | null {
  if (t.dataLocation === EXTERNAL_DATA) return null;
  if ((t.dims ?? []).reduce<number>((p, d) => p * toNum(d as LongLike), 1) > MAX_VALUES) return null;
  const raw = t.rawData && t.rawData.length > 0 ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : null;
  const each = (bytes: number, read: (offset: number) => number): number[] =>
    Array.from({ length: raw!.byteLength / bytes }, (_, i) => read(i * bytes));
  switch (t.dataType) {
    case DT.FLOAT:
      return raw ? each(4, (o) => raw.getFloat32(o, true)) : (t.floatData ?? []).map(Number);
    case DT.FLOAT16:
      // Without raw_data, halves travel as bit patterns in int32_data.
      return raw ? each(2, (o) => float16BitsToFloat32(raw.getUint16(o, true))) : (t.int32Data ?? []).map((h) => float16BitsToFloat32(h & 0xffff));
    case DT.DOUBLE:
      return raw ? each(8, (o) => raw.getFloat64(o, true)) : (t.doubleData ?? []).map(Number);
    case DT.INT64:
      return raw ? each(8, (o) => Number(raw.getBigInt64(o, true))) : (t.int64Data ?? []).map((v) => toNum(v as LongLike));
    case DT.INT32:
      return raw ? each(4, (o) => raw.getInt32(o, true)) : (t.int32Data ?? []).map(Number);
    default:
      return null;
  }
}

function attr(node: Node, name: string): onnx.onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function attrInts(node: Node, name: string): number[] | null {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map((v) => toNum(v as LongLike)) : null;
}

/** What a Cast to `to` does to a value that is already a float32 or float16 constant. */
function castValue(v: number, to: number): number {
  if (to === DT.FLOAT16) return float16BitsToFloat32(float32ToFloat16Bits(v));
  if (to === DT.FLOAT) return Math.fround(v);
  return v;
}

const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);

class GraphIndex {
  private readonly inits = new Map<string, TensorProto>();
  private readonly producers = new Map<string, Node>();
  private readonly consumers = new Map<string, Node[]>();

  constructor(graph: Graph) {
    for (const t of graph.initializer ?? []) if (t.name) this.inits.set(t.name, t);
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        if (!list.includes(n)) list.push(n);
        this.consumers.set(i, list);
      }
    }
    for (const o of graph.output ?? []) {
      // A graph output is a consumer too: a value that leaves the graph is not only normalised.
      if (o.name) this.consumers.set(o.name, [...(this.consumers.get(o.name) ?? []), { opType: '<graph output>' }]);
    }
  }

  consumersOf(name: string): readonly Node[] {
    return this.consumers.get(name) ?? [];
  }

  /**
   * The value of a name that is fixed before the graph runs: an initializer,
   * a Constant node, or one seen through the shape-only ops exporters leave
   * around constants (Identity, Cast, Unsqueeze, Reshape).
   */
  constant(name: string, depth = 0): Constant | null {
    if (depth > 8) return null;
    const init = this.inits.get(name);
    if (init) {
      const values = tensorNumbers(init);
      return values ? { dims: (init.dims ?? []).map((d) => toNum(d as LongLike)), values } : null;
    }
    const node = this.producers.get(name);
    if (!node) return null;
    const input = (i: number): Constant | null => {
      const n = node.input?.[i];
      return n ? this.constant(n, depth + 1) : null;
    };
    switch (node.opType) {
      case 'Constant': {
        const t = attr(node, 'value')?.t;
        if (t) {
          const values = tensorNumbers(t);
          return values ? { dims: (t.dims ?? []).map((d) => toNum(d as LongLike)), values } : null;
        }
        const f = attr(node, 'value_float');
        if (f) return { dims: [], values: [f.f ?? 0] };
        const fs = attr(node, 'value_floats');
        if (fs) return { dims: [(fs.floats ?? []).length], values: (fs.floats ?? []).map(Number) };
        return null;
      }
      case 'Identity':
        return input(0);
      case 'Cast': {
        const c = input(0);
        const to = toNum((attr(node, 'to')?.i ?? 0) as LongLike);
        return c ? { dims: c.dims, values: c.values.map((v) => castValue(v, to)) } : null;
      }
      case 'Unsqueeze': {
        const c = input(0);
        const axes = attrInts(node, 'axes') ?? input(1)?.values ?? null;
        if (!c || !axes) return null;
        const rank = c.dims.length + axes.length;
        const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
        const dims: number[] = [];
        for (let i = 0, j = 0; i < rank; i++) dims.push(at.has(i) ? 1 : c.dims[j++]);
        return { dims, values: c.values };
      }
      case 'Reshape': {
        const c = input(0);
        const shape = input(1)?.values;
        if (!c || !shape) return null;
        const dims = shape.map((d, i) => (d === 0 ? c.dims[i] : d));
        const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
        return { dims: dims.map((d) => (d === -1 ? c.values.length / known : d)), values: c.values };
      }
      default:
        return null;
    }
  }
}

/**
 * The per-channel vector of a constant broadcast against a rank-4 value whose
 * channels lie on `channelAxis`: numpy broadcasting aligns shapes from the
 * right, so [1,3,1,1] and [3,1,1] are per channel in NCHW, while a bare [3]
 * lines up with the width and is per channel only once a Transpose has moved
 * the channels last.
 */
function perChannel(c: Constant, channelAxis: number): [number, number, number] | null {
  if (c.dims.length > 4) return null;
  const dims = [...Array(4 - c.dims.length).fill(1), ...c.dims] as number[];
  for (let i = 0; i < 4; i++) {
    if (i === channelAxis ? dims[i] !== 1 && dims[i] !== 3 : dims[i] !== 1) return null;
  }
  if (c.values.length !== dims[channelAxis]) return null;
  return c.values.length === 3 ? [c.values[0], c.values[1], c.values[2]] : [c.values[0], c.values[0], c.values[0]];
}

const AFFINE = new Set(['Sub', 'Div', 'Mul', 'Add']);

/**
 * Follows the graph input through the chain of elementwise Sub/Div/Mul/Add by
 * per-channel constants that starts it (through Cast and Transpose too) and
 * folds that chain into one per-channel affine map y = a*x + b. Null when the
 * input goes straight into the network, or into anything ambiguous (several
 * consumers, non-constant operands).
 */
export function detectInGraphNormalization(graph: Graph, inputName: string): InGraphNormalization | null {
  const index = new GraphIndex(graph);
  const a = [1, 1, 1];
  const b = [0, 0, 0];
  const ops: string[] = [];
  let cur = inputName;
  let channelAxis = 1;
  for (let steps = 0; steps < 16; steps++) {
    const users = index.consumersOf(cur);
    if (users.length !== 1) break;
    const node = users[0];
    const op = node.opType ?? '';
    const out = node.output?.[0];
    if (!out) break;
    if (op === 'Cast') {
      if (!FLOAT_TYPES.has(toNum((attr(node, 'to')?.i ?? 0) as LongLike))) break;
    } else if (op === 'Transpose') {
      const perm = attrInts(node, 'perm') ?? [3, 2, 1, 0];
      channelAxis = perm.indexOf(channelAxis);
      if (channelAxis < 0) break;
    } else if (op === 'Identity') {
      // passes the value on unchanged
    } else if (AFFINE.has(op)) {
      const ins = node.input ?? [];
      if (ins.length !== 2 || (ins[0] === cur) === (ins[1] === cur)) break;
      const inputFirst = ins[0] === cur;
      const c = index.constant(inputFirst ? ins[1] : ins[0]);
      const v = c ? perChannel(c, channelAxis) : null;
      if (!v) break;
      if (op === 'Div' && (!inputFirst || v.some((x) => x === 0))) break;
      for (let k = 0; k < 3; k++) {
        if (op === 'Add') b[k] += v[k];
        else if (op === 'Sub' && inputFirst) b[k] -= v[k];
        else if (op === 'Sub') {
          a[k] = -a[k];
          b[k] = v[k] - b[k];
        } else if (op === 'Mul') {
          a[k] *= v[k];
          b[k] *= v[k];
        } else {
          a[k] /= v[k];
          b[k] /= v[k];
        }
      }
      ops.push(op);
    } else {
      break;
    }
    cur = out;
  }
  if (ops.length === 0 || (a.every((x) => x === 1) && b.every((x) => x === 0))) return null;
  const mean = [0, 1, 2].map((k) => -b[k] / a[k]) as [number, number, number];
  const std = [0, 1, 2].map((k) => 1 / a[k]) as [number, number, number];
  // Constants in 0..1 units (ImageNet's 0.485 / 0.229) mean the graph wants RGB/255;
  // 0..255 units (123.675 / 58.395, or a bare /255) mean it wants the raw bytes.
  const big = [...mean, ...std].some((x) => Math.abs(x) > 2);
  return { mean, std, inputScale: big ? 255 : 1, ops };
}

/** The spec that feeds such a graph what it expects: no normalisation outside, in its own range. */
export function specForInGraphNormalization(spec: PreprocessSpec, norm: InGraphNormalization): PreprocessSpec {
  const s = norm.inputScale === 255 ? 1 / 255 : 1;
  return { ...spec, mean: [0, 0, 0], std: [s, s, s] };
}

const short = (x: number): string => String(Number(x.toPrecision(6)));

/** One line for `models info`. */
export function describeInGraphNormalization(norm: InGraphNormalization): string {
  const units = norm.inputScale === 255 ? ' on 0..255 values' : '';
  return (
    `in the graph (mean ${norm.mean.map(short).join(',')} / std ${norm.std.map(short).join(',')}${units}, ${norm.ops.join(' then ')})` +
    ` — frames are fed as ${norm.inputScale === 255 ? 'RGB 0..255' : 'RGB/255'}`
  );
}

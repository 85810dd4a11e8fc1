import onnx from 'onnx-proto';

/**
 * A small ONNX graph builder. Learned weights become initializers (so the
 * initializer element count *is* the parameter count); fixed helper values
 * (reshape targets, scalars) become Constant nodes so they never inflate it.
 *
 * An initializer's values are either in memory (generated models) or read
 * only when the model is written (`DeferredValues`, e.g. a checkpoint
 * tensor on disk), so a converter never holds more than one tensor at a time;
 * see onnx-writer.ts.
 */

export const OPSET = 17;
/** IR version 8 is what opset 17 shipped with; onnxruntime 1.30 reads it. */
const IR_VERSION = 8;

/** A dimension: a fixed size or a symbolic name such as "H". */
export type Dim = number | string;

/** Attribute values. Integers become INT(S); wrap in `float()` to force FLOAT. */
export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr;
export interface FloatAttr { readonly kind: 'float'; readonly value: number }
export interface FloatsAttr { readonly kind: 'floats'; readonly value: readonly number[] }
export type Attrs = Readonly<Record<string, AttrValue>>;

export function float(value: number): FloatAttr {
  return { kind: 'float', value };
}
export function floats(value: readonly number[]): FloatsAttr {
  return { kind: 'floats', value };
}

const T = onnx.onnx.TensorProto.DataType;
const A = onnx.onnx.AttributeProto.AttributeType;

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian, which is what every platform
  // onnxruntime-node ships for, so the typed array's own bytes are used as is.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Float32 values read when the model is written, one tensor at a time. */
export type DeferredValues = () => Promise<Float32Array>;

/** One learned tensor: its values now, or a way to read them later. */
export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array | DeferredValues;
}

/** Everything but the initializers' values, in the form protobufjs encodes. */
export interface GraphParts {
  readonly name: string;
  readonly nodes: readonly onnx.onnx.INodeProto[];
  readonly inputs: readonly onnx.onnx.IValueInfoProto[];
  readonly outputs: readonly onnx.onnx.IValueInfoProto[];
  readonly initializers: readonly Initializer[];
}

export interface ModelOptions {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly docString?: string;
}

/** The ModelProto fields around the graph (the same for in-memory and streamed writing). */
export function modelHeader(opts: ModelOptions): onnx.onnx.IModelProto {
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'depth-video',
    producerVersion: '1',
    docString: opts.docString ?? '',
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): onnx.onnx.ITensorProto {
  const count = elementCount(dims);
  if (count !== data.length) throw new Error(`tensor ${name}: dims ${dims.join('x')} need ${count} values, got ${data.length}`);
  return {
    name,
    dims: [...dims],
    dataType: data instanceof Float32Array ? T.FLOAT : T.INT64,
    rawData: bytesOf(data),
  };
}

function attribute(name: string, v: AttrValue): onnx.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  if (Array.isArray(v)) {
    const ints = v as readonly number[];
    if (!ints.every(Number.isInteger)) throw new Error(`attribute ${name}: use floats() for non-integer lists`);
    return { name, type: A.INTS, ints: [...ints] };
  }
  const tagged = v as FloatAttr | FloatsAttr;
  if (tagged.kind === 'float') return { name, type: A.FLOAT, f: tagged.value };
  return { name, type: A.FLOATS, floats: [...tagged.value] };
}

/** Element types of graph inputs and outputs (float unless said otherwise). */
export type ElemType = 'float' | 'int32' | 'uint8';
const ELEM: Record<ElemType, number> = { float: T.FLOAT, int32: T.INT32, uint8: T.UINT8 };

function valueInfo(name: string, dims: readonly Dim[], elem: ElemType): onnx.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class GraphBuilder {
  private readonly nodes: onnx.onnx.INodeProto[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: onnx.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  private params = 0;

  constructor(readonly name: string) {}

  /** Number of learned values added with `param` so far. */
  get parameterCount(): number {
    return this.params;
  }

  /** A name not used before, derived from `base`. */
  fresh(base: string): string {
    let n = base;
    while (this.used.has(n)) n = `${base}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  input(name: string, dims: readonly Dim[], elem: ElemType = 'float'): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims, elem));
    return name;
  }

  /** Declares a graph output; `value` is renamed to `name` with an Identity. */
  output(value: string, name: string, dims: readonly Dim[], elem: ElemType = 'float'): string {
    if (value !== name) this.node('Identity', [value], { outputs: [name] });
    this.outputs.push(valueInfo(name, dims, elem));
    return name;
  }

  /**
   * A learned float tensor (an initializer). Deferred values are read when
   * the model is written and must then have exactly `dims` elements.
   */
  param(name: string, dims: readonly number[], values: Float32Array | DeferredValues): string {
    const count = elementCount(dims);
    if (values instanceof Float32Array && values.length !== count) {
      throw new Error(`tensor ${name}: dims ${dims.join('x')} need ${count} values, got ${values.length}`);
    }
    const n = this.fresh(name);
    this.initializers.push({ name: n, dims: [...dims], values });
    this.params += count;
    return n;
  }

  /** A fixed float tensor (Constant node); a scalar when dims is []. */
  constF(values: readonly number[], dims: readonly number[] = [values.length], name = 'const'): string {
    return this.node('Constant', [], { attrs: {}, constValue: tensor('value', dims, Float32Array.from(values)), name })[0];
  }

  /** A fixed int64 vector (Constant node), e.g. a Reshape target or axes. */
  constI64(values: readonly number[], name = 'shape'): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.node('Constant', [], { constValue: tensor('value', [values.length], data), name })[0];
  }

  /**
   * Adds a node and returns its output names. `outputs` may name them, or
   * `count` says how many fresh ones to make (default 1).
   */
  node(
    op: string,
    inputs: readonly string[],
    opts: { attrs?: Attrs; outputs?: readonly string[]; count?: number; name?: string; constValue?: onnx.onnx.ITensorProto } = {},
  ): string[] {
    const base = opts.name ?? op.toLowerCase();
    const outs = opts.outputs ? opts.outputs.map((o) => (this.used.add(o), o)) : Array.from({ length: opts.count ?? 1 }, () => this.fresh(base));
    const attribute_ = Object.entries(opts.attrs ?? {}).map(([k, v]) => attribute(k, v));
    if (opts.constValue) attribute_.push({ name: 'value', type: A.TENSOR, t: opts.constValue });
    this.nodes.push({ opType: op, input: [...inputs], output: outs, name: this.fresh(`n_${base}`), attribute: attribute_ });
    return outs;
  }

  /** Single-output shorthand for `node`. */
  op(op: string, inputs: readonly string[], attrs?: Attrs, name?: string): string {
    return this.node(op, inputs, { attrs, name })[0];
  }

  /** The graph as built so far, for a writer (see onnx-writer.ts). */
  parts(): GraphParts {
    return { name: this.name, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers };
  }

  /** The whole model in memory; only for graphs whose values are all in memory (generated models). */
  toBytes(opts: ModelOptions = {}): Uint8Array {
    const initializer = this.initializers.map((t) => {
      if (!(t.values instanceof Float32Array)) throw new Error(`initializer ${t.name} is read lazily: write the model with writeModel()`);
      return tensor(t.name, t.dims, t.values);
    });
    const model: onnx.onnx.IModelProto = {
      ...modelHeader(opts),
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    };
    return onnx.onnx.ModelProto.encode(model).finish();
  }
}

/** Sum of initializer element counts of an encoded model (what tests compare against). */
export function countInitializerElements(bytes: Uint8Array): number {
  const model = onnx.onnx.ModelProto.decode(bytes);
  let total = 0;
  for (const t of model.graph?.initializer ?? []) total += (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  return total;
}

/** metadata_props of an encoded model as a plain record. */
export function decodeMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.onnx.ModelProto.decode(bytes);
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) out[p.key ?? ''] = p.value ?? '';
  return out;
}

/**
 * The bytes of one metadata_props entry as a top-level ModelProto field.
 * Protobuf merges repeated fields across a message, so appending these to an
 * encoded model (in memory or on disk) adds the entry without re-encoding the
 * possibly 100 MB graph.
 */
export function metadataField(key: string, value: string): Uint8Array {
  return onnx.onnx.ModelProto.encode({ metadataProps: [{ key, value }] }).finish();
}

import { counted } from '../count.js';

/**
 * Which nodes of a GPU session run on the CPU provider, read from
 * onnxruntime's profile of the first run.
 *
 * onnxruntime assigns a node the GPU provider has no kernel for to the CPU,
 * and copies its tensors across on every run. It also places shape
 * arithmetic (int64 Shape/Gather/Concat feeding Reshape or Resize) on the CPU
 * on purpose, which costs nothing. The profile's per-node events carry the
 * provider and the element types of every input and output, so a CPU node
 * that touches a floating-point tensor is a real fallback and an integer-only
 * one is shape arithmetic. (The verbose log lists placements too, but it goes
 * to the process's stderr, out of reach of the worker thread.)
 */

export interface FallbackNode {
  readonly op: string;
  readonly node: string;
}

interface ProfileEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly args?: {
    readonly op_name?: string;
    readonly provider?: string;
    readonly input_type_shape?: readonly Record<string, unknown>[];
    readonly output_type_shape?: readonly Record<string, unknown>[];
  };
}

const FLOATING = new Set(['float', 'float16', 'double', 'bfloat16']);
const KERNEL_SUFFIX = '_kernel_time';

/** CPU-placed nodes that compute on floating-point data, each once, in profile order. */
export function cpuFallbackNodes(profile: readonly unknown[]): FallbackNode[] {
  const seen = new Set<string>();
  const out: FallbackNode[] = [];
  for (const raw of profile) {
    const e = raw as ProfileEvent;
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL_SUFFIX) || e.args?.provider !== 'CPUExecutionProvider') continue;
    const node = e.name.slice(0, -KERNEL_SUFFIX.length);
    if (seen.has(node)) continue;
    const types = [...(e.args.input_type_shape ?? []), ...(e.args.output_type_shape ?? [])].flatMap((t) => Object.keys(t));
    if (!types.some((t) => FLOATING.has(t))) continue;
    seen.add(node);
    out.push({ op: e.args.op_name ?? '?', node });
  }
  return out;
}

/**
 * The one-line report, e.g. `webgpu has no kernel for 1 node, which
 * onnxruntime runs on the CPU, copying its data across every frame:
 * MeanVarianceNormalization (n_mvn)`; null when there is none.
 */
export function fallbackReport(device: string, nodes: readonly FallbackNode[]): string | null {
  if (!nodes.length) return null;
  const byOp = new Map<string, string[]>();
  for (const n of nodes) byOp.set(n.op, [...(byOp.get(n.op) ?? []), n.node]);
  const ops = [...byOp].map(([op, names]) => `${op} (${names.length > 3 ? `${names.slice(0, 3).join(', ')}, …${names.length - 3} more` : names.join(', ')})`);
  return `${device} has no kernel for ${counted(nodes.length, 'node')}, which onnxruntime runs on the CPU, copying its data across every frame: ${ops.join('; ')}`;
}

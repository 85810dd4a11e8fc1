import { elementCount, type GraphBuilder } from '../graph.js';
import { filled, normalArray, type Rng } from '../random.js';

/**
 * Where a layer's learned tensors come from. Every layer asks for its
 * tensors by the DPT name the walkthrough uses (`blocks.3.attn.qkv.weight`,
 * `reassemble.0.resample.project.weight`, `scratch.refinenet2.out_conv.bias`,
 * `head.0.weight`, …) with the shape the graph needs:
 *  - a generated model draws seeded random values (`RandomWeights`);
 *  - a converted model reads the checkpoint tensor its family's key map
 *    names, after checking its shape (src/convert/weights.ts).
 */
export interface WeightRequest {
  /** DPT name of the tensor. */
  readonly name: string;
  /** Shape as the graph uses it. */
  readonly dims: readonly number[];
  /** How a generator initialises it: a truncated normal, or a constant. */
  readonly init: { readonly std: number } | { readonly fill: number };
  /**
   * PyTorch's nn.Linear stores its weight as [out, in]; the graph multiplies
   * tokens by [in, out]. A checkpoint source transposes such tensors.
   */
  readonly transposed?: boolean;
}

export interface WeightSource {
  /** Adds the tensor to the graph as an initializer and returns its name. */
  take(g: GraphBuilder, request: WeightRequest): string;
}

/** Seeded random weights, drawn in graph-building order: same config and seed, same bytes. */
export class RandomWeights implements WeightSource {
  constructor(private readonly rng: Rng) {}

  take(g: GraphBuilder, r: WeightRequest): string {
    const count = elementCount(r.dims);
    const values = 'std' in r.init ? normalArray(this.rng, count, r.init.std) : filled(count, r.init.fill);
    return g.param(r.name, r.dims, values);
  }
}

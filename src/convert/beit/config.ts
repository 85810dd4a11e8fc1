import type { FamilyName } from '../../inference/families.js';
import type { VitConfig } from '../../inference/generate/dpt/vit.js';
import { checkDerivedBuffer } from '../derived.js';
import { readMidasDecoder, type MidasDecoderConfig } from '../midas/index.js';
import { shapeReader } from '../shape-reader.js';
import type { StateDict } from '../weights.js';
import { relativePositionIndex } from './relative-position.js';

/** Everything that decides the graph of a MiDaS v3.1 BEiT DPT, inferred from tensor shapes. */
export interface BeitConfig {
  /** The MiDaS backbone (dpt_depth.py): beitb16_384, beitl16_384, beitl16_512. */
  readonly backbone: 'beitb16_384' | 'beitl16_384' | 'beitl16_512';
  readonly vit: VitConfig;
  /** The training patch window W (W x W patches): the bias tables have (2W−1)² + 3 rows. */
  readonly window: number;
  /** Blocks whose raw outputs are reassembled. */
  readonly hooks: readonly number[];
  readonly decoder: MidasDecoderConfig;
  /** The preprocessing family: the training size (384 or 512). */
  readonly runtimeFamily: FamilyName;
}

const M = 'pretrained.model';

/** dpt_depth.py's hooks and the timm models MiDaS builds (beit_base_patch16_384, beit_large_patch16_384/512). */
const BACKBONES = [
  { backbone: 'beitb16_384', width: 768, depth: 12, window: 24, hooks: [2, 5, 8, 11], runtimeFamily: 'beit-384' },
  { backbone: 'beitl16_384', width: 1024, depth: 24, window: 24, hooks: [5, 11, 17, 23], runtimeFamily: 'beit-384' },
  { backbone: 'beitl16_512', width: 1024, depth: 24, window: 32, hooks: [5, 11, 17, 23], runtimeFamily: 'beit-512' },
] as const;

/** The window W of a bias table of (2W−1)² + 3 rows, or null. */
function windowOf(rows: number): number | null {
  const side = Math.round(Math.sqrt(rows - 3));
  return side * side === rows - 3 && side % 2 === 1 ? (side + 1) / 2 : null;
}

/**
 * A checkpoint may carry the relative_position_index buffers (timm registers
 * them persistent); the graph computes the index for each input's grid, so a
 * stored one must be the training window's, else the file is not what its
 * shapes say.
 */
function checkStoredIndices(dict: StateDict, file: string, depth: number, window: number, describe: string): void {
  const side = window * window + 1;
  let expected: Int32Array | undefined;
  const values = (): Int32Array => (expected ??= relativePositionIndex(window, window));
  for (let b = 0; b < depth; b++) checkDerivedBuffer(dict, `${M}.blocks.${b}.attn.relative_position_index`, { shape: [side, side], values }, file, describe);
}

/** Reads the config off the tensor shapes; any contradiction is one CHECKPOINT_MISMATCH line. */
export function inferBeitConfig(dict: StateDict, file: string): BeitConfig {
  const r = shapeReader(dict, file, 'MiDaS v3.1 BEiT');
  const [E, inC, p, p2] = r.shape(`${M}.patch_embed.proj.weight`, 4);
  if (inC !== 3 || p !== 16 || p2 !== 16) throw r.mismatch(`${M}.patch_embed.proj.weight is [${E}, ${inC}, ${p}, ${p2}], expected [E, 3, 16, 16]`);
  const depth = r.count(/^pretrained\.model\.blocks\.(\d+)\./);
  const [rows, heads] = r.shape(`${M}.blocks.0.attn.relative_position_bias_table`, 2);
  const window = windowOf(rows);
  if (window === null) throw r.mismatch(`${M}.blocks.0.attn.relative_position_bias_table has ${rows} rows, not (2W-1)^2 + 3 for a square window W`);
  if (E % heads !== 0) throw r.mismatch(`width ${E} does not split into ${heads} heads`);
  const known = BACKBONES.find((b) => b.width === E && b.depth === depth && b.window === window);
  if (!known) {
    const list = BACKBONES.map((b) => `${b.backbone} (width ${b.width}, ${b.depth} blocks, window ${b.window})`).join(', ');
    throw r.mismatch(`width ${E}, ${depth} blocks and a ${window}x${window} window are none of MiDaS's BEiTs: ${list}`);
  }
  checkStoredIndices(dict, file, depth, window, `BEiT-${E === 768 ? 'B' : 'L'} ${window * 16}`);
  const decoder = readMidasDecoder(r);
  if (decoder.mapChannels.length !== 4) throw r.mismatch(`${decoder.mapChannels.length} decoder maps, a BEiT DPT has 4`);
  return {
    backbone: known.backbone,
    vit: {
      patchSize: 16,
      embedDim: E,
      depth,
      heads,
      mlpHidden: r.shape(`${M}.blocks.0.mlp.fc1.weight`, 2)[0],
      ffn: 'mlp',
      layerScale: true,
      posGrid: window,
      posEmbedResize: 'none',
      qkvBias: 'qv',
    },
    window,
    hooks: [...known.hooks],
    decoder,
    runtimeFamily: known.runtimeFamily,
  };
}

export function describeBeitConfig(c: BeitConfig): string {
  const v = c.vit;
  return (
    `BEiT-${v.embedDim === 768 ? 'B' : 'L'}/16 (width ${v.embedDim}, ${v.depth} blocks, ${v.heads} heads, MLP ${v.mlpHidden}, ` +
    `relative position bias for a ${c.window}x${c.window} window, resized to the input's grid), hooks ${c.hooks.join(',')}, readout project, ` +
    `features ${c.decoder.features}, maps ${c.decoder.mapChannels.join('/')}`
  );
}

/**
 * How a family's checkpoint keys relate to the DPT names the graph parts ask
 * for (see src/inference/generate/dpt/weights.ts). A key map is an ordered
 * list of rewrite rules, DPT name -> checkpoint key, plus the keys a released
 * checkpoint carries that the forward pass never reads, each with the reason.
 * The converted model names each initializer after its checkpoint key.
 */
export type KeyRule = readonly [dptName: RegExp, checkpointKey: string];

export interface UnusedKey {
  readonly key: RegExp;
  readonly why: string;
}

export class KeyMap {
  constructor(
    readonly rules: readonly KeyRule[],
    readonly unused: readonly UnusedKey[] = [],
  ) {}

  /** The checkpoint key holding DPT tensor `name` (first matching rule), or null. */
  keyFor(name: string): string | null {
    for (const [pattern, key] of this.rules) if (pattern.test(name)) return name.replace(pattern, key);
    return null;
  }

  /** Why the forward pass never reads `key`, or null when it should. */
  unusedReason(key: string): string | null {
    return this.unused.find((u) => u.key.test(key))?.why ?? null;
  }
}

/** Deterministic random numbers for generated weights (same seed, same bytes). */

export type Rng = () => number;

/** mulberry32: a tiny 32-bit PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Normal(0, std) values truncated at ±2 std (like timm's trunc_normal_), so
 * no single weight is wild enough to blow an activation up.
 */
export function normalArray(rng: Rng, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  let i = 0;
  while (i < count) {
    // Box-Muller gives two normals per pair of uniforms.
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    const z0 = r * Math.cos(2 * Math.PI * v);
    const z1 = r * Math.sin(2 * Math.PI * v);
    if (Math.abs(z0) <= 2) out[i++] = z0 * std;
    if (i < count && Math.abs(z1) <= 2) out[i++] = z1 * std;
  }
  return out;
}

export function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}

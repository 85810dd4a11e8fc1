import type { InferenceResult } from '../inference/session.js';
import type { VideoFrame } from '../types.js';
import { mulberry32 } from '../inference/generate/random.js';

/**
 * A benchmark/test-only wrapper around a real session (never used by the
 * production path): each prediction d becomes g_t * d + o_t, the scale/shift
 * ambiguity of relative depth, with gain and offset drifting as random walks
 * (gain in [0.5, 2]). A pure affine change cannot make per-frame min/max
 * normalisation flicker, so, as real predictions do, each frame also gets
 * 0.5% per-pixel noise and a few speckle outliers, which is what moves min/max.
 */
export function flickeringModel(seed: number) {
  return (infer: (f: VideoFrame) => Promise<InferenceResult>) => {
    const r = mulberry32(seed);
    let logGain = 0;
    let o = 0;
    return async (f: VideoFrame): Promise<InferenceResult> => {
      const res = await infer(f);
      logGain = Math.max(Math.log(0.5), Math.min(Math.log(2), logGain + (r() - 0.5) * 0.16));
      o = Math.max(-0.3, Math.min(0.3, o + (r() - 0.5) * 0.06));
      const g = Math.exp(logGain);
      const src = res.depth.data;
      const data = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) data[i] = g * src[i]! * (1 + (r() - 0.5) * 0.01) + o;
      for (let k = 0; k < 6; k++) data[Math.floor(r() * data.length)] = g * (r() < 0.5 ? -r() : 1 + r()) + o;
      return { ...res, depth: { ...res.depth, data } };
    };
  };
}

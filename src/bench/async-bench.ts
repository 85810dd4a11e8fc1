import { ffmpegPath } from '../ffmpeg/binary.js';
import { ensureGeneratedModel } from '../inference/generate/index.js';
import { DepthSession } from '../inference/session.js';
import { runPipeline, type RunSummary } from '../pipeline/run.js';
import type { PreprocessSpec } from '../types.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median } from './stats.js';

/**
 * The async schedule (live sources: latest frame wins) against a session
 * that is busy without using the CPU, as a GPU session is: the analytic
 * model plus a fixed wait per run, 40 ms, a large model on a GPU. A 1080p
 * clip paced as a 30 fps camera outruns it, so the session should never
 * wait for its input: each frame it
 * takes should have been prepared on a frame worker while the run before it
 * went on. Target, as for the GPU: inferences per second >= 0.9x the bare
 * session's (the same runs back to back, inputs ready).
 *
 * Then a slow (CPU-like) session, where most frames are dropped: what the
 * guess of which frame is taken next costs, as preparations thrown away.
 */
const SPEC: Partial<PreprocessSpec> = { width: 384, height: 384, keepAspect: true, multipleOf: 32, native: false };
const RENDER = { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'off', stabilizeWindow: 15 } as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function makeClip(path: string, rate: number, seconds: number): void {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${rate}`,
    '-frames:v', String(rate * seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', path]);
  if (r.status !== 0) throw new Error(`making the async bench clip failed: ${r.stderr.toString().trim()}`);
}

/** Runs per second of the session alone, each run followed by the simulated device time. */
async function bareRate(model: string, waitMs: number, runs: number): Promise<number> {
  const session = await DepthSession.open(model, { device: 'cpu', threads: 1, spec: SPEC });
  try {
    const { width, height } = session.inputSize(1920, 1080);
    const one = async () => { await session.runTensor(session.inputBuffer(3 * width * height), width, height); await sleep(waitMs); };
    for (let i = 0; i < 3; i++) await one();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await one();
    return runs / ((performance.now() - t0) / 1000);
  } finally {
    await session.close();
  }
}

function asyncRun(clip: string, model: string, waitMs: number): Promise<RunSummary> {
  return runPipeline({
    input: { kind: 'file', path: clip }, output: null, model, sync: false, allowDownload: false, device: 'cpu', threads: 1,
    spec: SPEC, render: RENDER, sinks: [],
    wrapInfer: (infer) => async (f) => { const r = await infer(f); if (waitMs) await sleep(waitMs); return r; },
  });
}

export async function asyncBench({ dir, quick, out }: { dir: string; quick: boolean; out: (line: string) => void }): Promise<void> {
  const seconds = quick ? 3 : 5;
  const rounds = quick ? 1 : 3;
  const clip = join(dir, 'async-1080p30.mp4');
  makeClip(clip, 30, seconds);
  const model = await ensureGeneratedModel('analytic');
  const waitMs = 40;
  out(`\n## async schedule at 1080p: a 30 fps camera-paced clip, a session busy ${waitMs} ms a run without CPU (the analytic model + a wait, as a GPU session), onnxruntime on 1 thread`);
  const bare: number[] = [];
  const piped: number[] = [];
  let last: RunSummary | null = null;
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareRate(model, waitMs, 40));
    last = await asyncRun(clip, model, waitMs);
    piped.push(last.frames.inferred / (last.wallMs / 1000));
  }
  const ratio = median(piped) / median(bare);
  const s = last!;
  out(`  bare session ${median(bare).toFixed(1)} runs/s; async pipeline ${median(piped).toFixed(1)} inferences/s (${piped.map((x) => x.toFixed(1)).join(' ')}) of ${s.frames.read} frames in`);
  out(`  inputs prepared ahead on a frame worker: ${s.frames.preparedAhead} of ${s.frames.inferred} inferences; prepared and then dropped: ${s.frames.preparedUnused}`);
  out(`  ratio pipeline / bare ${ratio.toFixed(2)}; target (as for the GPU) >= 0.9x: ${ratio >= 0.9 ? 'met' : 'NOT met'}`);

  // The slow session: every wasted preparation is CPU taken from the session.
  const slow = await ensureGeneratedModel('analytic-slow');
  const r = await asyncRun(clip, slow, 0);
  const perInference = r.frames.preparedUnused / Math.max(1, r.frames.inferred);
  out(`  a slow session (analytic-slow, ${r.meanMs.inference.toFixed(0)} ms a run): ${r.frames.inferred} of ${r.frames.read} frames inferred, ${r.frames.preparedAhead} prepared ahead, `
    + `${r.frames.preparedUnused} prepared and dropped (${perInference.toFixed(2)} an inference; preparing every frame would waste ${((r.frames.read - r.frames.inferred) / Math.max(1, r.frames.inferred)).toFixed(1)})`);
  out(`  target: at most about one wasted preparation an inference (<= 1.5): ${perInference <= 1.5 ? 'met' : 'NOT met'}`);
}

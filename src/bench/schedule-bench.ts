import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ffmpegPath } from '../ffmpeg/binary.js';
import { ensureGeneratedModel } from '../inference/generate/index.js';
import { DepthSession } from '../inference/session.js';
import { runPipeline, type RunSummary } from '../pipeline/run.js';
import type { PreprocessSpec } from '../types.js';
import { median } from './stats.js';

/**
 * How well the schedules keep a fast device busy, measured without one: the
 * analytic model, whose inference worker then blocks 40 ms a run without
 * using the CPU (DEPTH_VIDEO_SIMULATE_DEVICE_MS, as a synchronous GPU run
 * blocks it; a large model on a GPU), at 1080p.
 *
 * - sync: every frame of a clip, against the bare session (the same runs
 *   back to back, inputs ready). Target, as for the GPU: >= 0.9x.
 * - async: the clip paced as a 30 fps camera, which outruns the session,
 *   so the session should never wait for its input: each frame it takes
 *   should have been prepared on a frame worker while the run before it
 *   went on. Same target.
 * - a slow (CPU-like) session, where most frames are dropped: what the guess
 *   of which frame is taken next costs, as preparations thrown away.
 */
const SPEC: Partial<PreprocessSpec> = { width: 384, height: 384, keepAspect: true, multipleOf: 32, native: false };
const RENDER = { colormap: 'inferno', invert: false, highContrast: false, layout: 'depth', stabilize: 'align', stabilizeWindow: 15 } as const;
const DEVICE_MS = 40;
const SIMULATE = 'DEPTH_VIDEO_SIMULATE_DEVICE_MS';

function makeClip(path: string, rate: number, seconds: number): void {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${rate}`,
    '-frames:v', String(rate * seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', path]);
  if (r.status !== 0) throw new Error(`making the schedule bench clip failed: ${r.stderr.toString().trim()}`);
}

/** Workers started inside `fn` block DEVICE_MS a run (they read the variable when they start). */
async function withSimulatedDevice<T>(fn: () => Promise<T>): Promise<T> {
  process.env[SIMULATE] = String(DEVICE_MS);
  try {
    return await fn();
  } finally {
    delete process.env[SIMULATE];
  }
}

/** Runs per second of the session alone, inputs ready. */
async function bareRate(model: string, runs: number): Promise<number> {
  const session = await DepthSession.open(model, { device: 'cpu', threads: 1, spec: SPEC });
  try {
    const { width, height } = session.inputSize(1920, 1080);
    const one = () => session.runTensor(session.inputBuffer(3 * width * height), width, height);
    for (let i = 0; i < 3; i++) await one();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await one();
    return runs / ((performance.now() - t0) / 1000);
  } finally {
    await session.close();
  }
}

interface Measured {
  readonly summary: RunSummary;
  /** Inferred frames a second from the first inferred frame out to the last: the steady state, without start-up. */
  readonly rate: number;
}

async function run(clip: string, model: string, sync: boolean, output: string | null): Promise<Measured> {
  const times: number[] = [];
  const summary = await runPipeline({
    input: { kind: 'file', path: clip }, output, overwrite: true, audio: false, model, sync, allowDownload: false, device: 'cpu', threads: 1,
    spec: SPEC, render: RENDER, hooks: { onFrame: (f) => { if (f.inferred) times.push(performance.now()); } },
  });
  const rate = times.length > 1 ? (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000) : NaN;
  return { summary, rate };
}

export async function scheduleBench({ dir, quick, out }: { dir: string; quick: boolean; out: (line: string) => void }): Promise<void> {
  const seconds = quick ? 3 : 5;
  const rounds = quick ? 1 : 3;
  const clip = join(dir, 'schedule-1080p30.mp4');
  makeClip(clip, 30, seconds);
  const model = await ensureGeneratedModel('analytic');
  out(`\n## schedules against a device busy ${DEVICE_MS} ms a run without CPU (the analytic model + ${SIMULATE}), 1080p, onnxruntime on 1 thread`);
  const bare: number[] = [];
  const sync: number[] = [];
  const live: number[] = [];
  let lastSync: RunSummary | null = null;
  let lastLive: RunSummary | null = null;
  await withSimulatedDevice(async () => {
    for (let i = 0; i < rounds; i++) {
      bare.push(await bareRate(model, 30));
      const m = await run(clip, model, true, join(dir, 'schedule-sync.mp4'));
      sync.push(m.rate);
      lastSync = m.summary;
      const l = await run(clip, model, false, null);
      live.push(l.rate);
      lastLive = l.summary;
    }
  });
  const b = median(bare);
  const s = lastSync!;
  const a = lastLive!;
  const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
  out(`  bare session ${b.toFixed(1)} runs/s (${list(bare)}); the pipelines' rates are from their first inferred frame out to their last (start-up apart)`);
  out(`  sync, every frame to an mp4: ${median(sync).toFixed(1)} frames/s (${list(sync)}); `
    + `${s.frames.preparedAhead} of ${s.frames.inferred} inputs prepared ahead; ratio ${(median(sync) / b).toFixed(2)}; target >= 0.9x bare: ${median(sync) >= 0.9 * b ? 'met' : 'NOT met'}`);
  out(`  async, paced as a 30 fps camera: ${median(live).toFixed(1)} inferences/s (${list(live)}) of ${a.frames.read} frames; `
    + `${a.frames.preparedAhead} of ${a.frames.inferred} inputs prepared ahead, ${a.frames.preparedUnused} prepared and then dropped; `
    + `ratio ${(median(live) / b).toFixed(2)}; target >= 0.9x bare: ${median(live) >= 0.9 * b ? 'met' : 'NOT met'}`);

  // The slow session: every wasted preparation is CPU taken from the session.
  const { summary: r } = await run(clip, await ensureGeneratedModel('analytic-slow'), false, null);
  const perInference = r.frames.preparedUnused / Math.max(1, r.frames.inferred);
  out(`  async with a slow session (analytic-slow, ${r.meanMs.inference.toFixed(0)} ms a run): ${r.frames.inferred} of ${r.frames.read} frames inferred, ${r.frames.preparedAhead} prepared ahead, `
    + `${r.frames.preparedUnused} prepared and dropped (${perInference.toFixed(2)} an inference; preparing every frame would waste ${((r.frames.read - r.frames.inferred) / Math.max(1, r.frames.inferred)).toFixed(1)})`);
  out(`  target: at most about one wasted preparation an inference (<= 1.5): ${perInference <= 1.5 ? 'met' : 'NOT met'}`);
}

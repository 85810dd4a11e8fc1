import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from '../ffmpeg/binary.js';
import { ensureGeneratedModel } from '../inference/generate/index.js';
import { packageRoot } from '../paths.js';
import type { RunSummary } from '../pipeline/run.js';
import { videoCodecArgs } from '../sinks/encoder.js';
import { median } from './stats.js';
import { counted } from '../count.js';

/**
 * The ceiling: how fast the `--sync` pipeline can go when inference costs
 * next to nothing (the analytic model, run at the 672x384 a DPT-sized
 * network would get for a 16:9 frame, so preprocessing and upsampling are as
 * in real use), against ffmpeg decoding and encoding the same clip alone
 * with the same encoder settings.
 *
 * The gap between the two is not all the pipeline's own cost: the depth
 * video is not the clip, and costs the encoder a different amount. So
 * "ffmpeg's share" runs the ffmpeg work of the pipeline with no JS at all
 * (decode to raw yuv420p, encode the pipeline's own output from raw): the
 * JS stages, the frames on the pipes and node's start-up are the gap
 * between the pipeline and that share, and the share is the best the ratio
 * against ffmpeg alone could be.
 *
 * Every run is a separate process (the CLI, or ffmpeg) timed from the
 * outside, with its CPU time (all threads and child processes) from this
 * process's rusage of reaped children. Pipeline and ffmpeg runs alternate,
 * and each pipeline run is compared with the ffmpeg runs either side of it,
 * because this shared machine's speed drifts by more than the effect.
 */

interface Timed {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly stdout: string;
}

const TICK_MS = 1000 / 100; // USER_HZ, 100 on Linux

/** CPU time of this process's reaped children (utime + stime), ms; null without /proc. */
function childrenCpuMs(): number | null {
  if (!existsSync('/proc/self/stat')) return null;
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // Fields 16 and 17 (cutime, cstime) are 14 and 15 after the ") ".
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}

function timed(cmd: string, args: readonly string[]): Promise<Timed> {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => {
      const wallMs = performance.now() - t0;
      const c1 = childrenCpuMs();
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim().split('\n').pop()}`));
      else resolve({ wallMs, cpuMs: c0 !== null && c1 !== null ? c1 - c0 : NaN, stdout });
    });
  });
}

/**
 * The ffmpeg work the pipeline cannot do without, with no JS in between: the
 * clip decoded to raw yuv420p (as the pipeline's decoder sends it) and the
 * pipeline's own output, decoded once beforehand, encoded from raw with the
 * same settings, the two processes at once as in the pipeline. Wall time
 * until both end; CPU of both.
 */
async function ffmpegShare(clip: string, depthRaw: string, w: number, h: number, codec: readonly string[], outFile: string, cores: number | null = null): Promise<Timed> {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const q = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  await Promise.all([
    runQuiet(...taskset(cores, ffmpegPath(), [...q, '-i', clip, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '/dev/null'])),
    runQuiet(...taskset(cores, ffmpegPath(), [...q, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', '30', '-i', depthRaw, ...codec, outFile])),
  ]);
  const c1 = childrenCpuMs();
  return { wallMs: performance.now() - t0, cpuMs: c0 !== null && c1 !== null ? c1 - c0 : NaN, stdout: '' };
}

function runQuiet(cmd: string, args: readonly string[]): Promise<void> {
  return timed(cmd, args).then(() => undefined);
}

function taskset(cores: number | null, cmd: string, args: readonly string[]): [string, string[]] {
  return cores === null ? [cmd, [...args]] : ['taskset', ['-c', Array.from({ length: cores }, (_, i) => i).join(','), cmd, ...args]];
}

interface Pair {
  readonly ffmpeg: Timed;
  readonly pipeline: Timed & { readonly summary: RunSummary };
}

export interface CeilingOptions {
  readonly dir: string;
  readonly quick: boolean;
  readonly out: (line: string) => void;
}

/** The ceiling section of `npm run bench` (`--only ceiling` runs it alone). */
export async function ceilingBench({ dir, quick, out }: CeilingOptions): Promise<void> {
  await ensureGeneratedModel('analytic');
  const cores = availableParallelism();
  const hasTaskset = spawnSync('taskset', ['-p', String(process.pid)]).status === 0;
  out(`\n## ceiling: --sync pipeline with the analytic model (inference ~0) against ffmpeg decode+encode alone, ${cores} cores`);
  out('   every run a separate process; fps from wall time, CPU = all threads and child processes; pipeline and ffmpeg runs alternate');

  const sizes: [string, number, number, number][] = quick
    ? [['1080p', 1920, 1080, 30], ['4K', 3840, 2160, 12]]
    : [['1080p', 1920, 1080, 150], ['4K', 3840, 2160, 45]];
  const rounds = quick ? 1 : 3;
  const codec = videoCodecArgs('x.mp4', { num: 30, den: 1 }, false);
  const cli = join(packageRoot, 'bin', 'depth-video.js');

  for (const [name, w, h, frames] of sizes) {
    const clip = join(dir, `ceiling-${name}.mp4`);
    await timed(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=30`, '-frames:v', String(frames),
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
    const ffmpegAlone = (n: number | null) => timed(...taskset(n, ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', clip, ...codec, join(dir, `ceiling-${name}-ffmpeg.mp4`)]));
    const flags = ['--overwrite', '--model', 'analytic', '--size', '384', '--keep-aspect', '--multiple-of', '32', '--sync', '--no-audio', '--no-download', '--json', '-q'];
    const pipeline = async (n: number | null, extra: string[] = []) => {
      const r = await timed(...taskset(n, process.execPath, [cli, clip, '--out', join(dir, `ceiling-${name}-depth.mp4`), ...flags, ...extra]));
      const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as RunSummary;
      if (summary.frames.written !== frames) throw new Error(`ceiling ${name}: wrote ${summary.frames.written} of ${frames} frames`);
      return { ...r, summary };
    };

    // ffmpeg | pipeline | ffmpeg | pipeline | ... | ffmpeg
    const alone: Timed[] = [await ffmpegAlone(null)];
    const pairs: Pair[] = [];
    for (let i = 0; i < rounds; i++) {
      const p = await pipeline(null);
      alone.push(await ffmpegAlone(null));
      pairs.push({ ffmpeg: alone[i]!, pipeline: p });
    }
    // ffmpeg's share of the pipeline, run after the pairs so that the depth video exists.
    const depthRaw = join(dir, `ceiling-${name}-depth.yuv`);
    await timed(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', join(dir, `ceiling-${name}-depth.mp4`), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', depthRaw]);
    const floorRuns: Timed[] = [];
    const share = (n: number | null) => ffmpegShare(clip, depthRaw, w, h, codec, join(dir, `ceiling-${name}-share.mp4`), n);
    for (let i = 0; i < rounds; i++) floorRuns.push(await share(null));
    // What a run pays once, whatever the clip's length: node's start, the
    // model's load, the threads' start, the ffmpeg processes' start and end.
    const starts: Timed[] = [];
    for (let i = 0; i < rounds; i++) starts.push(await timed(process.execPath, [cli, clip, '--out', join(dir, `ceiling-${name}-one.mp4`), ...flags, '--max-frames', '1']));
    const fps = (t: Timed) => frames / (t.wallMs / 1000);
    const ratios = pairs.map((p, i) => fps(p.pipeline) / ((fps(alone[i]!) + fps(alone[i + 1]!)) / 2));
    const ratio = median(ratios);
    const best = pairs.map((p) => p.pipeline).sort((a, b) => a.wallMs - b.wallMs)[0]!;
    const s = best.summary;
    const perFrame = (ms: number) => (ms / frames).toFixed(1);
    const aloneCpu = median(alone.map((t) => t.cpuMs / frames));
    out(`\n### ${name} (${w}x${h}, ${frames} frames; inference at ${s.inputSize?.width}x${s.inputSize?.height}; ${counted(s.workers, 'frame worker')})`);
    out(`  ffmpeg decode+encode alone  ${median(alone.map(fps)).toFixed(1)} frames/s, CPU ${aloneCpu.toFixed(1)} ms/frame`);
    out(`  --sync pipeline             ${median(pairs.map((p) => fps(p.pipeline))).toFixed(1)} frames/s, CPU ${perFrame(median(pairs.map((p) => p.pipeline.cpuMs)))} ms/frame (whole process, node start and model load included)`);
    out(`  ratio pipeline / ffmpeg     ${ratio.toFixed(2)} (each run against the ffmpeg runs either side: ${ratios.map((r) => r.toFixed(2)).join(' ')})`);
    out(`  target: the JS stages add at most 25% (ceiling >= 0.8x ffmpeg alone): ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
    const shareFps = median(floorRuns.map(fps));
    const shareCpu = median(floorRuns.map((t) => t.cpuMs / frames));
    const pipeCpu = median(pairs.map((p) => p.pipeline.cpuMs / frames));
    out(`  ffmpeg's share of the pipeline ${shareFps.toFixed(1)} frames/s, CPU ${shareCpu.toFixed(1)} ms/frame: decoding the clip to raw yuv420p and, at the same time, encoding the pipeline's own output from raw, with no JS`);
    out(`    = ${(shareFps / median(alone.map(fps))).toFixed(2)}x ffmpeg alone: with JS stages that cost nothing the ratio above would be about that; `
      + `decoding to raw and encoding this depth video take ${(shareCpu - aloneCpu).toFixed(1)} ms/frame more CPU than ffmpeg's own decode and encode of the clip`);
    out(`  ratio pipeline / ffmpeg's share ${(median(pairs.map((p) => fps(p.pipeline))) / shareFps).toFixed(2)}: the JS stages, the pipes and node's start-up cost ${(pipeCpu - shareCpu).toFixed(1)} ms of CPU a frame`);
    out(`  target: the JS stages add at most 25% (pipeline >= 0.8x ffmpeg's share of it): ${median(pairs.map((p) => fps(p.pipeline))) >= 0.8 * shareFps ? 'met' : 'NOT met'}`);
    const startCpu = median(starts.map((t) => t.cpuMs));
    const startWall = median(starts.map((t) => t.wallMs));
    const pipeWall = median(pairs.map((p) => p.pipeline.wallMs));
    out(`  start-up (a 1-frame run): ${startWall.toFixed(0)} ms, ${startCpu.toFixed(0)} ms of CPU, ${(startCpu / frames).toFixed(1)} ms a frame of this clip; `
      + `the rest, ${((pipeCpu * frames - startCpu) / (frames - 1) - shareCpu).toFixed(1)} ms of CPU a frame, is the JS stages and the pipes: `
      + `on a long clip the pipeline would run at about ${((frames - 1) / ((pipeWall - startWall) / 1000) / shareFps).toFixed(2)}x its share (an estimate)`);
    out(`  stages of the fastest run (ms per frame): preprocess ${s.meanMs.preprocess.toFixed(1)} (frame workers), inference ${s.meanMs.inference.toFixed(1)}, `
      + `render ${s.meanMs.render.toFixed(1)} (frame workers), sinks ${s.meanMs.sinks.toFixed(1)} (waiting for the encoder's pipe), main thread busy ${s.meanMs.main.toFixed(1)}`);
    out(`  overlap: ${(best.cpuMs / best.wallMs).toFixed(2)} cores busy on average; the main thread's ${s.meanMs.main.toFixed(1)} ms/frame is the only serial JS work: `
      + `at most ${(1000 / Math.max(0.1, s.meanMs.main)).toFixed(0)} frames/s on any number of cores, the rest spreads over the workers and ffmpeg's threads`);

    if (hasTaskset && cores >= 2) {
      // Throughput with one core against all of them, the pipeline and ffmpeg alike.
      const one = { pipeline: await pipeline(1), ffmpeg: await ffmpegAlone(1), share: await share(1) };
      const all = { pipeline: await pipeline(null), ffmpeg: await ffmpegAlone(null), share: await share(null) };
      const gain = (k: keyof typeof one) => fps(all[k]) / fps(one[k]);
      const pScale = gain('pipeline');
      const fScale = gain('ffmpeg');
      out(`  cores: 1 -> ${cores}: pipeline ${fps(one.pipeline).toFixed(1)} -> ${fps(all.pipeline).toFixed(1)} frames/s (x${pScale.toFixed(2)}), `
        + `ffmpeg alone ${fps(one.ffmpeg).toFixed(1)} -> ${fps(all.ffmpeg).toFixed(1)} (x${fScale.toFixed(2)}), `
        + `ffmpeg's share ${fps(one.share).toFixed(1)} -> ${fps(all.share).toFixed(1)} (x${gain('share').toFixed(2)})`);
      // On many cores the share shows whether ffmpeg's own work for this output stops scaling first: the pipeline cannot outrun it.
      out(`    on ${cores} cores the pipeline runs at ${(fps(all.pipeline) / fps(all.share)).toFixed(2)}x ffmpeg's share; on 1 core at ${(fps(one.pipeline) / fps(one.share)).toFixed(2)}x`);
      out(`  target: throughput scales with cores (pipeline's gain >= 0.9x ffmpeg's own): ${pScale >= 0.9 * fScale ? 'met' : 'NOT met'}`);
    }
    rmSync(depthRaw, { force: true });
  }
}

import type { RunSummary } from '../pipeline/run.js';
import { counted } from '../count.js';

/** The human summary printed at the end of a run. */
export function summaryText(s: RunSummary): string {
  const f = s.frames;
  const lines = [
    `${s.interrupted ? 'stopped' : 'done'}: ${counted(f.read, 'frame')} read, ${f.inferred} inferred, ${f.dropped} dropped (${s.schedule}), ${f.written} written`,
    `inference ${s.meanMs.inference.toFixed(1)} ms/frame mean (preprocess ${s.meanMs.preprocess.toFixed(1)} ms, render ${s.meanMs.render.toFixed(1)} ms on ${s.workers ? counted(s.workers, 'frame worker') : 'the main thread'})` +
      (s.inputSize ? ` at ${s.inputSize.width}x${s.inputSize.height}` : ''),
    `wall time ${(s.wallMs / 1000).toFixed(2)} s (${s.fps.toFixed(1)} fps), model ${s.model.label}${s.model.untrained ? ' [UNTRAINED TEST MODEL]' : ''} on ${s.device.label}`,
  ];
  if (s.flicker !== null) lines.push(`flicker ${s.flicker.toFixed(4)} (mean |change| of normalised depth on still pixels, --stabilize ${s.stabilize})`);
  if (s.output) lines.push(`output: ${s.output}`);
  return lines.join('\n');
}

export const UNTRAINED_BANNER = [
  '!! ==========================================================================',
  '!! UNTRAINED TEST MODEL: %s',
  '!! Its weights are generated (random or analytic), not learned. The output',
  '!! shows the pipeline working, NOT real depth. For real depth use a trained',
  '!! model: depth-video models list / models pull depth-anything-v2-small',
  '!! ==========================================================================',
].join('\n');

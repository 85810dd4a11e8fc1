import type { SourceDamage } from '../sources/ffmpeg-source.js';
import { counted } from '../count.js';

export interface KeptFrames {
  readonly count: number;
  /** pts (s) of the first and last frame written; null when none was. */
  readonly firstPts: number | null;
  readonly lastPts: number | null;
}

const seconds = (t: number): string => `${t.toFixed(2)} s`;

/**
 * The one line a damaged input earns: ffmpeg's own words for the first
 * problem (an error rather than a warning when there is one), where in the
 * video it was reported (seconds from the first frame), and what was kept.
 * It claims nothing about "before" or "after" that the numbers do not show:
 * a decoder that conceals a corrupt stretch goes on past it.
 */
export function damageText(label: string, damage: readonly SourceDamage[], kept: KeptFrames, opts: { expected: number | null; live: boolean }): string {
  const first = damage.find((d) => d.error) ?? damage[0];
  const keptText = `kept ${counted(kept.count, 'frame')}`;
  if (!first) return `${label} is damaged or truncated; ${keptText}`;
  if (opts.live) return `${first.text}; ${keptText}`;
  const origin = kept.firstPts ?? 0;
  const where = (d: SourceDamage) => (d.after === null ? 'before the first frame' : `after ${seconds(d.after - origin)}`);
  const last = damage[damage.length - 1]!;
  const more = damage.length > 1 ? ` (${counted(damage.length, 'report')} in all${last.after !== first.after ? `, the last ${where(last)}` : ''})` : '';
  const span = kept.lastPts === null ? '' : ` up to ${seconds(kept.lastPts - origin)}`;
  const expected = opts.expected ? ` of about ${opts.expected}` : '';
  // Half a second leaves room for the frames a decoder still had queued when it met the damage.
  const wentOn = kept.lastPts !== null && last.after !== null && kept.lastPts - last.after > 0.5
    ? '; decoding went on past the damage, so frames near it may show artefacts'
    : '';
  return `${label} is damaged or truncated: ffmpeg reported "${first.text}" ${where(first)}${more}; ${keptText}${span}${expected}${wentOn}`;
}

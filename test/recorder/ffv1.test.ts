import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng16, readDepth16, readRecording, Recorder, type RecordFormat } from '../../src/sinks/recorder/index.js';
import { ffmpeg, ffmpegGray16, makeFrame, manifestInit, tempDir } from './helpers.js';

// Uneven gaps (drops, a toggle) and a non-zero start: the mkv must keep these pts, not a fixed grid.
const PTS = [1.0, 1.04, 1.12, 1.16, 2.5, 2.54, 2.6];

async function recordAs(format: RecordFormat, maxBytes?: number, warnings: string[] = []): Promise<string> {
  const dir = tempDir(format);
  const rec = await Recorder.create(dir, { format, overwrite: false, maxBytes, manifest: manifestInit(), onWarning: (l) => warnings.push(l) });
  rec.start(0);
  for (let i = 0; i < PTS.length; i++) await rec.write(makeFrame(10 + i * 3, PTS[i]));
  await rec.close();
  return dir;
}

/** pts (seconds) of each packet in a media file, from ffmpeg's framecrc muxer with stream copy. */
function packetPts(file: string): number[] {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-copyts', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(r.stdout);
  expect(tb).not.toBeNull();
  const scale = Number(tb?.[1]) / Number(tb?.[2]);
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => Number(l.split(',')[2]) * scale);
}

describe('ffv1 recording', () => {
  it('decodes to the same 16-bit values as the PNGs, same frame count, source pts kept', async () => {
    const pngDir = await recordAs('png16');
    const mkvDir = await recordAs('ffv1');
    const mkv = join(mkvDir, 'depth.mkv');
    const decoded = ffmpegGray16(mkv, 40, 30);
    const lines = readFileSync(join(mkvDir, 'frames.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; pts: number; mkvFrame: number; depth: string });
    expect(decoded).toHaveLength(PTS.length);
    expect(lines).toHaveLength(PTS.length);
    expect(lines.map((l) => l.mkvFrame)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(lines.every((l) => l.depth === 'depth.mkv')).toBe(true);
    for (let i = 0; i < PTS.length; i++) {
      const png = decodePng16(readFileSync(join(pngDir, 'depth', `${String(10 + i * 3).padStart(6, '0')}.png`)));
      expect(Array.from(decoded[i])).toEqual(Array.from(png.data));
    }
    const pts = packetPts(mkv);
    expect(pts).toHaveLength(PTS.length);
    pts.forEach((p, i) => expect(p).toBeCloseTo(PTS[i], 3));

    const loaded = await readRecording(mkvDir);
    expect(loaded.problems).toEqual([]);
    expect(loaded.manifest.format).toBe('ffv1');
    expect(loaded.frames).toHaveLength(PTS.length);
    expect(Array.from(await readDepth16(mkvDir, loaded.frames[5], loaded.manifest))).toEqual(Array.from(makeFrame(25, 0).depth16));
  });

  it('stops at maxBytes with a finished, decodable file', async () => {
    const warnings: string[] = [];
    const dir = await recordAs('ffv1', 1, warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/size limit/);
    const loaded = await readRecording(dir);
    expect(loaded.manifest.framesRecorded).toBe(1);
    expect(loaded.manifest.complete).toBe(true);
    expect(loaded.frames).toHaveLength(1);
    expect(ffmpegGray16(join(dir, 'depth.mkv'), 40, 30)).toHaveLength(1);
  });
});

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { DepthVideoError, errorText } from '../../errors.js';
import { decodeGray16Frames, ffmpegPath } from './ffv1.js';
import { readNpy } from './npy.js';
import { decodePng16 } from './png16.js';
import { DEPTH_DIR, FRAMES, isTempName, MANIFEST, MKV, RAW_DIR } from './recorder.js';
import type { FrameRecord, RecordingManifest } from './types.js';
import { counted } from '../../count.js';

export interface LoadedRecording {
  manifest: RecordingManifest;
  /** Frames whose files are all present, in recording order. */
  frames: FrameRecord[];
  /** One line per thing that is not as a cleanly closed recording leaves it. */
  problems: string[];
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await fsp.stat(path)).size;
  } catch {
    return null;
  }
}

async function list(path: string): Promise<string[]> {
  try {
    return await fsp.readdir(path);
  } catch {
    return [];
  }
}

function isFrameRecord(v: unknown): v is FrameRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return ['index', 'pts', 'width', 'height'].every((k) => typeof r[k] === 'number');
}

/** Count packets of depth.mkv without decoding (stream copy), tolerating a torn tail. */
function countMkvFrames(path: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const proc = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'quiet', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', 'pipe:1']);
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (s: string) => { out += s; });
    proc.on('error', () => resolvePromise(0));
    proc.on('close', () => resolvePromise(out.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length));
  });
}

/**
 * Load a recording dir, damaged or not: everything usable is returned and
 * every oddity (interrupted writer, missing or orphan files, torn jsonl line)
 * is listed in `problems` rather than thrown.
 */
export async function readRecording(dir: string): Promise<LoadedRecording> {
  const abs = resolve(dir);
  const problems: string[] = [];
  let manifest: RecordingManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(join(abs, MANIFEST), 'utf8')) as RecordingManifest;
  } catch (e) {
    throw new DepthVideoError('RECORDING', `${join(abs, MANIFEST)} is missing or unreadable (${errorText(e)}): this is not a depth-video recording dir`, { file: abs, cause: e });
  }
  if (!manifest.complete) problems.push(`${MANIFEST} says complete: false: the recorder was interrupted; the frames listed in ${FRAMES} are usable`);
  if (manifest.stoppedReason) problems.push(`recording stopped early: ${manifest.stoppedReason}`);

  let text = '';
  try {
    text = await fsp.readFile(join(abs, FRAMES), 'utf8');
  } catch {
    problems.push(`${FRAMES} is missing: no frames were recorded`);
  }
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const records: FrameRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v: unknown = JSON.parse(line);
      if (isFrameRecord(v)) records.push(v);
      else problems.push(`${FRAMES} line ${i + 1} is not a frame record`);
    } catch {
      problems.push(`${FRAMES} line ${i + 1} is not valid JSON`);
    }
  });
  if (tail.trim()) problems.push(`${FRAMES} ends with a truncated line (${tail.length} bytes, ignored): the writer was interrupted mid-line`);

  const frames: FrameRecord[] = [];
  const listed = new Set<string>();
  let mkvCount: number | null = null;
  if (records.some((r) => r.mkvFrame !== undefined)) {
    mkvCount = (await sizeOf(join(abs, MKV))) === null ? 0 : await countMkvFrames(join(abs, MKV));
    if (mkvCount === 0) problems.push(`${MKV} is missing or unreadable`);
  }
  for (const r of records) {
    let ok = true;
    for (const rel of [r.depth, r.raw]) {
      if (rel === undefined) continue;
      listed.add(rel);
      if (rel === MKV) continue;
      const size = await sizeOf(join(abs, rel));
      if (size === null) { problems.push(`frame ${r.index}: ${rel} is missing`); ok = false; }
      else if (size === 0) { problems.push(`frame ${r.index}: ${rel} is empty`); ok = false; }
    }
    if (r.mkvFrame !== undefined && mkvCount !== null && r.mkvFrame >= mkvCount) {
      problems.push(`frame ${r.index}: ${MKV} holds only ${counted(mkvCount, 'frame')}, not frame #${r.mkvFrame}`);
      ok = false;
    }
    if (ok) frames.push(r);
  }

  for (const sub of ['', DEPTH_DIR, RAW_DIR]) {
    for (const name of await list(join(abs, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (isTempName(name)) problems.push(`orphan temp file ${rel} (an interrupted write; safe to delete)`);
      else if (sub && !listed.has(rel)) problems.push(`${rel} is not listed in ${FRAMES} (written but never committed)`);
    }
  }
  return { manifest, frames, problems };
}

let mkvCache: { key: string; frames: Promise<Uint16Array[]> } | undefined;

/** The 16-bit depth of one frame, from its PNG or from depth.mkv (decoded once, cached). */
export async function readDepth16(dir: string, rec: FrameRecord, manifest: RecordingManifest): Promise<Uint16Array> {
  const abs = resolve(dir);
  if (rec.depth === undefined) throw new DepthVideoError('RECORDING', `frame ${rec.index} of ${abs} has no depth image (format ${manifest.format}): use its raw .npy`, { file: abs });
  const path = join(abs, rec.depth);
  if (rec.depth !== MKV) {
    const img = decodePng16(await fsp.readFile(path));
    if (img.width !== rec.width || img.height !== rec.height) {
      throw new DepthVideoError('RECORDING', `${path} is ${img.width}x${img.height}, ${FRAMES} says ${rec.width}x${rec.height}: the file was replaced`, { file: path });
    }
    return img.data;
  }
  const st = await fsp.stat(path);
  const key = `${path}:${st.mtimeMs}:${st.size}:${rec.width}x${rec.height}`;
  if (mkvCache?.key !== key) mkvCache = { key, frames: decodeGray16Frames(path, rec.width, rec.height) };
  const all = await mkvCache.frames;
  const pos = rec.mkvFrame ?? -1;
  const frame = all[pos];
  if (!frame) throw new DepthVideoError('RECORDING', `${path} has ${counted(all.length, 'frame')}, frame #${pos} is missing: the file was cut short`, { file: path });
  return frame.slice();
}

/** The float32 raw model output of one frame ([H, W]). */
export function readRaw(dir: string, rec: FrameRecord): Float32Array {
  const abs = resolve(dir);
  if (rec.raw === undefined) throw new DepthVideoError('RECORDING', `frame ${rec.index} of ${abs} has no raw .npy: record with --record-format float32 or both`, { file: abs });
  const arr = readNpy(join(abs, rec.raw));
  if (arr.shape.length !== 2 || arr.shape[0] !== rec.height || arr.shape[1] !== rec.width) {
    throw new DepthVideoError('RECORDING', `${join(abs, rec.raw)} has shape (${arr.shape.join(', ')}), expected (${rec.height}, ${rec.width})`, { file: abs });
  }
  return arr.data;
}

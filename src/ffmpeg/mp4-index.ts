import { open } from 'node:fs/promises';

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

interface Box {
  readonly type: string;
  /** Where the payload starts and the box ends. */
  readonly body: number;
  readonly end: number;
}

// A damaged file must not keep us walking: no real moov has this many boxes in one level.
const MAX_BOXES = 4096;

async function children(read: ReadAt, start: number, end: number): Promise<Box[]> {
  const out: Box[] = [];
  let pos = start;
  while (pos + 8 <= end && out.length < MAX_BOXES) {
    const h = await read(pos, 16);
    if (h.length < 8) break;
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    let size = view.getUint32(0);
    const type = String.fromCharCode(h[4]!, h[5]!, h[6]!, h[7]!);
    let header = 8;
    if (size === 1) {
      if (h.length < 16) break;
      size = Number(view.getBigUint64(8));
      header = 16;
    } else if (size === 0) size = end - pos;
    if (size < header || pos + size > end) break;
    out.push({ type, body: pos + header, end: pos + size });
    pos += size;
  }
  return out;
}

async function find(read: ReadAt, parent: { body: number; end: number }, type: string): Promise<Box | undefined> {
  return (await children(read, parent.body, parent.end)).find((b) => b.type === type);
}

/**
 * Number of frames in the first video track of an MP4/MOV file, from its
 * sample table (stsz/stz2), reading only box headers: the container's
 * duration also counts an audio track that runs past the video, so
 * duration × fps overshoots (a 4 s, 30 fps clip with AAC says 4.02 s: 121).
 * null when the file has no such table (fragmented MP4, damage, not MP4).
 */
export async function mp4VideoFrameCount(read: ReadAt, fileSize: number): Promise<number | null> {
  const moov = (await children(read, 0, fileSize)).find((b) => b.type === 'moov');
  if (!moov) return null;
  for (const trak of await children(read, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = await find(read, trak, 'mdia');
    const hdlr = mdia && (await find(read, mdia, 'hdlr'));
    // hdlr: version+flags (4), pre_defined (4), handler_type (4).
    if (!hdlr || String.fromCharCode(...(await read(hdlr.body + 8, 4))) !== 'vide') continue;
    const minf = await find(read, mdia, 'minf');
    const stbl = minf && (await find(read, minf, 'stbl'));
    if (!stbl) return null;
    for (const b of await children(read, stbl.body, stbl.end)) {
      // stsz: version+flags, sample_size, sample_count; stz2: version+flags, reserved+field_size, sample_count.
      if (b.type !== 'stsz' && b.type !== 'stz2') continue;
      const c = await read(b.body + 8, 4);
      if (c.length < 4) return null;
      const n = new DataView(c.buffer, c.byteOffset, 4).getUint32(0);
      return n > 0 ? n : null;
    }
    return null;
  }
  return null;
}

/** mp4VideoFrameCount on a file. */
export async function mp4FileFrameCount(path: string, fileSize: number): Promise<number | null> {
  const fh = await open(path, 'r');
  try {
    return await mp4VideoFrameCount(async (position, length) => {
      const buf = new Uint8Array(Math.max(0, Math.min(length, fileSize - position)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, position);
      return buf.subarray(0, bytesRead);
    }, fileSize);
  } finally {
    await fh.close();
  }
}

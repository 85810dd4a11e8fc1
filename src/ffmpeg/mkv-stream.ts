/**
 * A minimal live Matroska stream of raw frames, written by us and read by
 * ffmpeg on a pipe. Raw video on a pipe has no timestamps; this carries each
 * frame's own pts (microsecond ticks), so variable frame rates, dropped frames
 * and gaps survive into the encoded file (ffmpeg runs with -copyts and
 * -vsync passthrough). One V_UNCOMPRESSED track; one Cluster per frame.
 */

function idBytes(id: number): Buffer {
  const hex = id.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** EBML element size as an 8-byte vint: wasteful by a few bytes but never ambiguous. */
function sizeBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x01;
  let v = BigInt(n);
  for (let i = 7; i >= 1; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return b;
}

function el(id: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([idBytes(id), sizeBytes(body.length), body]);
}

function uintEl(id: number, n: number): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do { bytes.unshift(Number(v & 0xffn)); v >>= 8n; } while (v > 0n);
  return el(id, Buffer.from(bytes));
}

const strEl = (id: number, s: string): Buffer => el(id, Buffer.from(s, 'latin1'));

/** fourccs ffmpeg's Matroska demuxer maps to raw pixel formats (V_UNCOMPRESSED ColourSpace). */
const FOURCC: Record<MkvPixelFormat, readonly number[]> = {
  gray16le: [0x59, 0x31, 0x00, 0x10], // 'Y1\0\x10'
  rgb24: [0x52, 0x47, 0x42, 0x18], // 'RGB\x18'
  yuv420p: [0x49, 0x34, 0x32, 0x30], // 'I420'
};

export type MkvPixelFormat = 'gray16le' | 'rgb24' | 'yuv420p';

/** EBML header + Segment (unknown size, as live streams do) + Info + Tracks. */
export function mkvStreamHeader(width: number, height: number, pixelFormat: MkvPixelFormat): Buffer {
  const ebml = el(0x1a45dfa3, uintEl(0x4286, 1), uintEl(0x42f7, 1), uintEl(0x42f2, 4), uintEl(0x42f3, 8),
    strEl(0x4282, 'matroska'), uintEl(0x4287, 4), uintEl(0x4285, 2));
  const segment = Buffer.concat([idBytes(0x18538067), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  const info = el(0x1549a966, uintEl(0x2ad7b1, 1000 /* ns per tick: 1 µs */), strEl(0x4d80, 'depth-video'), strEl(0x5741, 'depth-video'));
  const video = el(0xe0, uintEl(0xb0, width), uintEl(0xba, height), el(0x2eb524, Buffer.from(FOURCC[pixelFormat])));
  const track = el(0xae, uintEl(0xd7, 1), uintEl(0x73c5, 1), uintEl(0x83, 1), strEl(0x86, 'V_UNCOMPRESSED'), video);
  return Buffer.concat([ebml, segment, info, el(0x1654ae6b, track)]);
}

/**
 * The bytes that go before a frame's pixels: a Cluster at `micros` holding
 * one SimpleBlock (track 1, key frame) of `frameBytes` bytes. Writing this and
 * then the pixels themselves saves copying every frame into one buffer.
 */
export function mkvFramePrefix(micros: number, frameBytes: number): Buffer {
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x80]);
  const blockLen = blockHead.length + frameBytes;
  const timecode = uintEl(0xe7, micros);
  const blockPrefix = Buffer.concat([idBytes(0xa3), sizeBytes(blockLen), blockHead]);
  const clusterLen = timecode.length + blockPrefix.length + frameBytes;
  return Buffer.concat([idBytes(0x1f43b675), sizeBytes(clusterLen), timecode, blockPrefix]);
}

/** One cluster holding one key frame at `micros`. */
export function mkvFrameCluster(micros: number, pixels: Uint8Array): Buffer {
  return Buffer.concat([mkvFramePrefix(micros, pixels.length), pixels]);
}


/**
 * The EXIF orientation of a JPEG, which phones and cameras set instead of
 * turning the pixels: ffmpeg 4 decodes the pixels as stored, so a portrait
 * photo would come out lying on its side. Read from the bytes (untrusted:
 * every offset is checked; anything unreadable counts as upright).
 */

/** EXIF orientation 1..8 (1 = upright, the default when there is no tag). */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const TAG_ORIENTATION = 0x0112;
const TYPE_SHORT = 3;

/** The orientation tag of a JPEG's EXIF block (APP1), 1 when there is none or it cannot be read. */
export function jpegOrientation(bytes: Uint8Array): Orientation {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 2;
  // Marker segments up to the image data: FF xx, then a big-endian length that counts itself.
  while (p + 4 <= bytes.length && bytes[p] === 0xff) {
    const marker = bytes[p + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // start of scan, end of image
    const length = view.getUint16(p + 2);
    if (length < 2 || p + 2 + length > bytes.length) break;
    if (marker === 0xe1) {
      const o = exifOrientation(view, p + 4, p + 2 + length);
      if (o !== null) return o;
    }
    p += 2 + length;
  }
  return 1;
}

/** The orientation in an APP1 payload [start, end) that begins "Exif\0\0", or null. */
function exifOrientation(view: DataView, start: number, end: number): Orientation | null {
  const exif = [0x45, 0x78, 0x69, 0x66, 0, 0];
  if (end - start < 14 || exif.some((b, i) => view.getUint8(start + i) !== b)) return null;
  const tiff = start + 6;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return null; // "II" little-endian, "MM" big-endian
  const le = order === 0x4949;
  if (view.getUint16(tiff + 2, le) !== 42) return null;
  const ifd0 = tiff + view.getUint32(tiff + 4, le);
  if (ifd0 + 2 > end) return null;
  const entries = view.getUint16(ifd0, le);
  for (let k = 0; k < entries; k++) {
    const e = ifd0 + 2 + 12 * k;
    if (e + 12 > end) return null;
    if (view.getUint16(e, le) !== TAG_ORIENTATION) continue;
    if (view.getUint16(e + 2, le) !== TYPE_SHORT || view.getUint32(e + 4, le) !== 1) return null;
    const v = view.getUint16(e + 8, le);
    return v >= 1 && v <= 8 ? (v as Orientation) : null;
  }
  return null;
}

/**
 * The ffmpeg filter that shows a picture of this orientation upright, or
 * null for 1. transpose=0 is the transpose about the main diagonal (5),
 * 1 a quarter turn clockwise (6), 3 the transpose about the other diagonal
 * (7), 2 a quarter turn anticlockwise (8).
 */
export function orientationFilter(o: Orientation): string | null {
  return [null, null, 'hflip', 'hflip,vflip', 'vflip', 'transpose=0', 'transpose=1', 'transpose=3', 'transpose=2'][o] ?? null;
}

/** Orientations 5 to 8 turn the picture a quarter: its width and height swap. */
export function orientationSwapsSides(o: Orientation): boolean {
  return o >= 5;
}

import { pngChunk } from './recorder/png16.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The same PNG or JPEG with a text comment added (PNG: a tEXt "Comment"
 * chunk after IHDR; JPEG: a COM segment after the start-of-image marker),
 * where viewers and `exiftool` show it; null for anything else. ffmpeg 4's
 * image encoders write no comment of their own.
 */
export function withImageComment(file: Uint8Array, comment: string): Uint8Array | null {
  const text = Buffer.from(comment.replace(/[^\x20-\x7e]/g, '?'), 'latin1');
  if (file.length > 33 && PNG_SIGNATURE.every((b, i) => file[i] === b) && Buffer.from(file.subarray(12, 16)).toString('latin1') === 'IHDR') {
    // Signature (8) + IHDR (4 length + 4 type + 13 data + 4 CRC).
    const chunk = pngChunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), text]));
    return Buffer.concat([file.subarray(0, 33), chunk, file.subarray(33)]);
  }
  if (file.length > 2 && file[0] === 0xff && file[1] === 0xd8 && text.length <= 65533) {
    const head = Buffer.from([0xff, 0xfe, 0, 0]);
    head.writeUInt16BE(text.length + 2, 2);
    return Buffer.concat([file.subarray(0, 2), head, text, file.subarray(2)]);
  }
  return null;
}

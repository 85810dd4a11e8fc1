import { crc32 } from './crc32.js';
import { damagedCheckpoint, invalidCheckpoint } from './errors.js';
import type { RandomAccessFile } from './file.js';

export const LOCAL_HEADER_SIG = 0x04034b50;
export const CENTRAL_HEADER_SIG = 0x02014b50;
export const EOCD_SIG = 0x06054b50;
export const ZIP64_EOCD_SIG = 0x06064b50;
export const ZIP64_LOCATOR_SIG = 0x07064b50;
export const DATA_DESCRIPTOR_SIG = 0x08074b50;
const METHOD_STORED = 0;

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

function u64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER; // caught by the bounds checks
  return Number(v);
}

/**
 * The central directory of a zip file, read without reading the entries
 * themselves: torch.save files are zips of stored (uncompressed) records, so a
 * tensor is a positioned read at its record's data offset. Zip64 (files and
 * records over 4 GiB, as Depth-Anything ViT-G checkpoints are) is handled.
 */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<string, number>();
  private readonly path: string;

  constructor(private readonly file: RandomAccessFile) {
    this.path = file.path;
    const { cdOffset, cdSize, count } = this.findCentralDirectory();
    const cd = file.read(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_HEADER_SIG) {
        throw damagedCheckpoint(this.path, `central directory entry ${i} of ${count} is malformed`);
      }
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) throw damagedCheckpoint(this.path, `central directory entry ${i} runs past the directory`);
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      // Zip64: fields saturated at 0xFFFFFFFF live in extra field 0x0001, in this order.
      for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (size === 0xffffffff && q + 8 <= x + 4 + len) (size = u64(cd, q)), (q += 8);
          if (compressedSize === 0xffffffff && q + 8 <= x + 4 + len) (compressedSize = u64(cd, q)), (q += 8);
          if (localHeaderOffset === 0xffffffff && q + 8 <= x + 4 + len) localHeaderOffset = u64(cd, q);
        }
        x += 4 + len;
      }
      // Every record lies before the central directory; one that does not was cut or corrupted.
      if (localHeaderOffset + 30 + nameLen + compressedSize > cdOffset) {
        throw damagedCheckpoint(this.path, `record ${name} runs past the end of the data`);
      }
      this.entries.set(name, { name, method, crc32: crc, compressedSize, size, localHeaderOffset });
      p = end;
    }
  }

  private findCentralDirectory(): { cdOffset: number; cdSize: number; count: number } {
    const size = this.file.size;
    if (size < 22) throw damagedCheckpoint(this.path, `only ${size} bytes, no zip end-of-central-directory record`);
    const tailLen = Math.min(size, 22 + 0xffff + 20);
    const tailStart = size - tailLen;
    const tail = this.file.read(tailStart, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw damagedCheckpoint(this.path, 'no zip end-of-central-directory record');
    if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) {
      throw invalidCheckpoint(this.path, 'a multi-part zip is not supported; join the parts into one file first');
    }
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    let cdEnd = tailStart + eocd;
    const loc = eocd - 20;
    if (loc >= 0 && tail.readUInt32LE(loc) === ZIP64_LOCATOR_SIG) {
      const z64Offset = u64(tail, loc + 8);
      if (z64Offset + 56 > tailStart + loc) throw damagedCheckpoint(this.path, 'the zip64 end record lies past its locator');
      const z = this.file.read(z64Offset, 56);
      if (z.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw damagedCheckpoint(this.path, 'no zip64 end-of-central-directory record where its locator points');
      count = u64(z, 32);
      cdSize = u64(z, 40);
      cdOffset = u64(z, 48);
      cdEnd = z64Offset;
    }
    if (cdOffset + cdSize > cdEnd) throw damagedCheckpoint(this.path, 'the zip central directory runs past its end record');
    return { cdOffset, cdSize, count };
  }

  /**
   * File position of a stored entry's first data byte (from its local header).
   * torch.save stores records uncompressed, and a tensor must be readable in
   * place, so a zip re-compressed by hand is refused rather than inflated whole.
   */
  dataOffset(e: ZipEntry): number {
    const known = this.dataOffsets.get(e.name);
    if (known !== undefined) return known;
    if (e.method !== METHOD_STORED) {
      throw invalidCheckpoint(this.path, `record ${e.name} is compressed (zip method ${e.method}), which torch.save never does; re-save the file with torch.save, or re-zip it with zip -0`);
    }
    const h = this.file.read(e.localHeaderOffset, 30);
    if (h.readUInt32LE(0) !== LOCAL_HEADER_SIG) throw damagedCheckpoint(this.path, `no local header for record ${e.name}`);
    const off = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (off + e.compressedSize > this.file.size) throw damagedCheckpoint(this.path, `record ${e.name} runs past the end of the file`);
    this.dataOffsets.set(e.name, off);
    return off;
  }

  /** A whole (small) record, checked against its CRC. */
  readEntry(e: ZipEntry): Buffer {
    const data = this.file.read(this.dataOffset(e), e.compressedSize);
    if (crc32(data) !== e.crc32) throw damagedCheckpoint(this.path, `record ${e.name} fails its CRC check`);
    return data;
  }
}

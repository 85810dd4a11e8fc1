import { crc32, crc32Zeros } from './crc32.js';
import type { OutFile } from './out-file.js';
import { CENTRAL_HEADER_SIG, DATA_DESCRIPTOR_SIG, EOCD_SIG, LOCAL_HEADER_SIG, ZIP64_EOCD_SIG, ZIP64_LOCATOR_SIG } from './zip.js';

const ALIGN = 64;
const U32_MAX = 0xffffffff;
const FLAGS = 0x0808; // data descriptor follows the data; names are UTF-8

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

/**
 * Writes a zip the way PyTorch's writer (miniz) does: stored records whose
 * data starts 64-byte aligned (padding in an 'FB' extra field), sizes and CRC
 * in a data descriptor after the data, zip64 fields where a size or offset
 * passes 4 GiB, and a zip64 end record always.
 */
export class ZipWriter {
  private readonly done: Written[] = [];
  private current: (Written & { expected: number; zip64: boolean }) | null = null;

  constructor(private readonly out: OutFile) {}

  /** Starts a record of `size` bytes; fill it with write()/zeros(), then end(). */
  begin(name: string, size: number): void {
    if (this.current) throw new Error(`record ${this.current.name.toString()} is still open`);
    const nameBytes = Buffer.from(name, 'utf8');
    const offset = this.out.position;
    const zip64 = size >= U32_MAX;
    const z64 = zip64 ? 20 : 0; // zip64 extra: id, length, two zero sizes
    // Pad with an 'FB' extra field so the data starts on a 64-byte boundary (at least its 4-byte header).
    const pad = (ALIGN - ((offset + 30 + nameBytes.length + z64 + 4) % ALIGN)) % ALIGN;
    const extraLen = z64 + 4 + pad;
    const h = Buffer.alloc(30 + nameBytes.length + extraLen, 0x5a); // 'Z' padding, as PyTorch's writer
    h.writeUInt32LE(LOCAL_HEADER_SIG, 0);
    h.writeUInt16LE(zip64 ? 45 : 0, 4);
    h.writeUInt16LE(FLAGS, 6);
    h.fill(0, 8, 26); // method stored, no time, CRC and sizes in the descriptor
    h.writeUInt16LE(nameBytes.length, 26);
    h.writeUInt16LE(extraLen, 28);
    nameBytes.copy(h, 30);
    let x = 30 + nameBytes.length;
    if (zip64) {
      h.writeUInt16LE(0x0001, x);
      h.writeUInt16LE(16, x + 2);
      h.fill(0, x + 4, x + 20);
      x += 20;
    }
    h.write('FB', x, 'latin1');
    h.writeUInt16LE(pad, x + 2);
    this.out.write(h);
    this.current = { name: nameBytes, crc: 0, size: 0, offset, expected: size, zip64 };
  }

  write(data: Uint8Array): void {
    const c = this.current!;
    c.crc = crc32(data, c.crc);
    c.size += data.length;
    this.out.write(data);
  }

  /** `count` zero bytes, left as a hole in the file. */
  zeros(count: number): void {
    const c = this.current!;
    c.crc = crc32Zeros(c.crc, count);
    c.size += count;
    this.out.skip(count);
  }

  end(): void {
    const c = this.current!;
    if (c.size !== c.expected) throw new Error(`record ${c.name.toString()} was declared ${c.expected} bytes but got ${c.size}`);
    const d = Buffer.alloc(c.zip64 ? 24 : 16);
    d.writeUInt32LE(DATA_DESCRIPTOR_SIG, 0);
    d.writeUInt32LE(c.crc, 4);
    if (c.zip64) {
      d.writeBigUInt64LE(BigInt(c.size), 8);
      d.writeBigUInt64LE(BigInt(c.size), 16);
    } else {
      d.writeUInt32LE(c.size, 8);
      d.writeUInt32LE(c.size, 12);
    }
    this.out.write(d);
    this.done.push({ name: c.name, crc: c.crc, size: c.size, offset: c.offset });
    this.current = null;
  }

  record(name: string, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.begin(name, bytes.length);
    this.write(bytes);
    this.end();
  }

  /** Central directory and end records. */
  finish(): void {
    const cdOffset = this.out.position;
    for (const e of this.done) {
      const bigSize = e.size >= U32_MAX;
      const bigOffset = e.offset >= U32_MAX;
      const z64Len = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
      const h = Buffer.alloc(46 + e.name.length + (z64Len ? 4 + z64Len : 0));
      h.writeUInt32LE(CENTRAL_HEADER_SIG, 0);
      h.writeUInt16LE(z64Len ? 45 : 0, 4);
      h.writeUInt16LE(z64Len ? 45 : 0, 6);
      h.writeUInt16LE(FLAGS, 8);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(bigSize ? U32_MAX : e.size, 20);
      h.writeUInt32LE(bigSize ? U32_MAX : e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(z64Len ? 4 + z64Len : 0, 30);
      h.writeUInt32LE(bigOffset ? U32_MAX : e.offset, 42);
      e.name.copy(h, 46);
      let x = 46 + e.name.length;
      if (z64Len) {
        h.writeUInt16LE(0x0001, x);
        h.writeUInt16LE(z64Len, x + 2);
        x += 4;
        if (bigSize) {
          h.writeBigUInt64LE(BigInt(e.size), x);
          h.writeBigUInt64LE(BigInt(e.size), x + 8);
          x += 16;
        }
        if (bigOffset) h.writeBigUInt64LE(BigInt(e.offset), x);
      }
      this.out.write(h);
    }
    const cdSize = this.out.position - cdOffset;
    const z64At = this.out.position;
    const n = this.done.length;
    const t = Buffer.alloc(56 + 20 + 22);
    t.writeUInt32LE(ZIP64_EOCD_SIG, 0);
    t.writeBigUInt64LE(44n, 4);
    t.writeUInt16LE(0x031e, 12);
    t.writeUInt16LE(45, 14);
    t.writeBigUInt64LE(BigInt(n), 24);
    t.writeBigUInt64LE(BigInt(n), 32);
    t.writeBigUInt64LE(BigInt(cdSize), 40);
    t.writeBigUInt64LE(BigInt(cdOffset), 48);
    t.writeUInt32LE(ZIP64_LOCATOR_SIG, 56);
    t.writeBigUInt64LE(BigInt(z64At), 64);
    t.writeUInt32LE(1, 72);
    t.writeUInt32LE(EOCD_SIG, 76);
    t.writeUInt16LE(Math.min(n, 0xffff), 84);
    t.writeUInt16LE(Math.min(n, 0xffff), 86);
    t.writeUInt32LE(Math.min(cdSize, U32_MAX), 88);
    t.writeUInt32LE(Math.min(cdOffset, U32_MAX), 92);
    this.out.write(t);
  }
}

/**
 * Emits protocol-2 pickle opcodes the way CPython's pickler does for the few
 * kinds of value a state dict holds. Used by the torch writer (and by tests to
 * build hostile pickles).
 */
export class PickleWriter {
  private readonly chunks: Buffer[] = [];
  private readonly globals = new Map<string, number>();
  private memoCount = 0;

  constructor() {
    this.raw(0x80, 2); // PROTO 2
  }

  raw(...bytes: number[]): this {
    this.chunks.push(Buffer.from(bytes));
    return this;
  }

  private memoize(): number {
    const i = this.memoCount++;
    if (i < 256) this.raw(0x71, i); // BINPUT
    else {
      const b = Buffer.alloc(5);
      b[0] = 0x72; // LONG_BINPUT
      b.writeUInt32LE(i, 1);
      this.chunks.push(b);
    }
    return i;
  }

  private get(i: number): this {
    if (i < 256) return this.raw(0x68, i); // BINGET
    const b = Buffer.alloc(5);
    b[0] = 0x6a; // LONG_BINGET
    b.writeUInt32LE(i, 1);
    this.chunks.push(b);
    return this;
  }

  /** GLOBAL module name, memoized so later uses are a BINGET, as CPython does. */
  global(module: string, name: string): this {
    const key = `${module}\n${name}`;
    const known = this.globals.get(key);
    if (known !== undefined) return this.get(known);
    this.chunks.push(Buffer.from(`c${module}\n${name}\n`, 'utf8'));
    this.globals.set(key, this.memoize());
    return this;
  }

  int(v: number): this {
    if (!Number.isInteger(v)) throw new RangeError(`${v} is not an integer`);
    if (v >= 0 && v <= 0xff) return this.raw(0x4b, v); // BININT1
    if (v >= 0 && v <= 0xffff) return this.raw(0x4d, v & 0xff, v >> 8); // BININT2
    if (v >= -0x8000_0000 && v <= 0x7fff_ffff) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(v, 1);
      this.chunks.push(b);
      return this;
    }
    // LONG1: little-endian two's complement, as short as the sign allows.
    let big = BigInt(v);
    const bytes: number[] = [];
    for (;;) {
      const byte = Number(big & 0xffn);
      bytes.push(byte);
      big >>= 8n;
      if ((big === 0n && (byte & 0x80) === 0) || (big === -1n && (byte & 0x80) !== 0)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }

  float(v: number): this {
    const b = Buffer.alloc(9);
    b[0] = 0x47; // BINFLOAT, big-endian
    b.writeDoubleBE(v, 1);
    this.chunks.push(b);
    return this;
  }

  str(s: string): this {
    const body = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(body.length, 1);
    this.chunks.push(h, body);
    return this;
  }

  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }

  none(): this {
    return this.raw(0x4e);
  }

  /** A plain value of a wrapper dict. */
  value(v: number | string | boolean | null): this {
    if (v === null) return this.none();
    if (typeof v === 'boolean') return this.bool(v);
    if (typeof v === 'string') return this.str(v);
    return Number.isInteger(v) ? this.int(v) : this.float(v);
  }

  /** A tuple of ints (sizes, strides). */
  intTuple(values: readonly number[]): this {
    if (values.length === 0) return this.raw(0x29); // EMPTY_TUPLE
    if (values.length > 3) this.mark();
    for (const v of values) this.int(v);
    return values.length > 3 ? this.raw(0x74) : this.raw(0x84 + values.length); // TUPLE or TUPLE1..3
  }

  mark(): this {
    return this.raw(0x28);
  }

  tuple(): this {
    return this.raw(0x74);
  }

  emptyTuple(): this {
    return this.raw(0x29);
  }

  emptyDict(): this {
    this.raw(0x7d);
    this.memoize();
    return this;
  }

  reduce(): this {
    this.raw(0x52);
    this.memoize();
    return this;
  }

  binpersid(): this {
    return this.raw(0x51);
  }

  setitem(): this {
    return this.raw(0x73);
  }

  setitems(): this {
    return this.raw(0x75);
  }

  build(): this {
    return this.raw(0x62);
  }

  stop(): Buffer {
    this.raw(0x2e);
    return Buffer.concat(this.chunks);
  }
}

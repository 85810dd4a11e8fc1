/**
 * A Python pickle reader that builds plain data and never runs anything.
 *
 * A pickle is a program for a small stack machine; the opcodes that make
 * lists, dicts, tuples, numbers and strings are interpreted here. The only
 * dangerous ones are those that name a Python global (GLOBAL, STACK_GLOBAL,
 * INST, OBJ) and those that call one (REDUCE, NEWOBJ, BUILD). Globals are
 * resolved only through `hooks.global`, which returns a stand-in value for an
 * allowed name; a name it refuses becomes an inert `PyForeign` that is
 * recorded and carried along (calling it yields another PyForeign), so the
 * caller can report every global the file wanted, after parsing, without any
 * of them having run. Calls of allowed globals go to `hooks.call`, which the
 * caller implements in TypeScript. Tuples and lists both become arrays;
 * dicts keep insertion order (PyDict), as Python's do.
 */

/** A dict (also OrderedDict), in insertion order. Keys may be any hashable pickle value. */
export class PyDict {
  readonly keys: unknown[] = [];
  readonly values: unknown[] = [];
  /** State given by BUILD (an OrderedDict's `_metadata`, for state dicts). */
  state: unknown = undefined;
  private readonly index = new Map<unknown, number>();

  set(key: unknown, value: unknown): void {
    const k = hashKey(key);
    const at = this.index.get(k);
    if (at !== undefined) {
      this.values[at] = value;
      return;
    }
    this.index.set(k, this.keys.length);
    this.keys.push(key);
    this.values.push(value);
  }

  get(key: unknown): unknown {
    const at = this.index.get(hashKey(key));
    return at === undefined ? undefined : this.values[at];
  }

  get size(): number {
    return this.keys.length;
  }
}

/** A set or frozenset. */
export class PySet {
  constructor(readonly items: unknown[] = []) {}
}

/** Python bytes / bytearray. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** A global the hooks refused (or anything built from one): inert, never called. */
export class PyForeign {
  constructor(readonly global: string) {}
}

export interface PickleHooks {
  /** A stand-in for an allowed global, or undefined to refuse it. */
  global(module: string, name: string): unknown;
  /** What calling an allowed global with these arguments gives (REDUCE, NEWOBJ, INST, OBJ). */
  call(fn: unknown, args: unknown[]): unknown;
  /** The object a persistent id stands for (BINPERSID, PERSID). */
  persistentLoad(pid: unknown): unknown;
}

export interface PickleResult {
  readonly value: unknown;
  /** Refused globals as 'module.name', in the order the pickle named them. */
  readonly foreign: readonly string[];
}

/** A pickle that is cut short or not a pickle; `foreign` says what it had asked for until then. */
export class PickleError extends Error {
  constructor(message: string, readonly truncated: boolean, readonly foreign: readonly string[]) {
    super(message);
    this.name = 'PickleError';
  }
}

function hashKey(key: unknown): unknown {
  if (key === null || typeof key !== 'object') return typeof key === 'bigint' && Number.isSafeInteger(Number(key)) ? Number(key) : key;
  if (Array.isArray(key)) return `\u0000tuple:${key.map((k) => String(hashKey(k))).join('\u0001')}`;
  if (key instanceof PyBytes) return `\u0000bytes:${Buffer.from(key.bytes).toString('latin1')}`;
  return key;
}

const MARK = Symbol('mark');
const utf8 = new TextDecoder('utf-8');

function intOf(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Little-endian two's complement (LONG1 / LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return intOf(v);
}

/** The quoted repr of protocol-0 STRING: backslash escapes. */
function unescapeRepr(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\\'"nrtabfv])/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? e;
  });
}

/** Protocol-0 UNICODE is raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes. */
function unescapeRawUnicode(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/g, (_m, e: string) => String.fromCodePoint(parseInt(e.slice(1), 16)));
}

/**
 * Parses a pickle (protocols 0–5). Throws PickleError for malformed or
 * cut-short data, and for any error at all once a refused global has been
 * seen (so that the caller reports the refusal, not what followed from it).
 * Errors the hooks throw otherwise pass through.
 */
export function unpickle(data: Uint8Array, hooks: PickleHooks): PickleResult {
  const foreign: string[] = [];
  try {
    return run(data, hooks, foreign);
  } catch (e) {
    if (e instanceof PickleError) throw e;
    const bad = e instanceof SyntaxError || e instanceof RangeError;
    if (foreign.length > 0 || bad) throw new PickleError(e instanceof Error ? e.message : String(e), false, foreign);
    throw e;
  }
}

function run(data: Uint8Array, hooks: PickleHooks, foreign: string[]): PickleResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  let opAt = 0;
  const fail = (msg: string, truncated = false): never => {
    throw new PickleError(`${msg} (opcode at byte ${opAt})`, truncated, foreign);
  };
  const need = (n: number): number => {
    if (pos + n > data.length) fail(`the pickle ends at byte ${data.length}, inside an opcode`, true);
    const at = pos;
    pos += n;
    return at;
  };
  const bytes = (n: number): Uint8Array => {
    const at = need(n);
    return data.subarray(at, at + n);
  };
  const u8 = (): number => data[need(1)]!;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(data.length)) fail(`the pickle ends at byte ${data.length}, inside an opcode`, true);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle ends inside a text opcode', true);
    const s = Buffer.from(data.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('the pickle pops an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the pickle reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('the pickle closes a MARK it never opened');
    stack = prev!;
    return items;
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`the pickle refers to memo ${i}, which it never stored`);
    return memo.get(i);
  };
  const resolve = (module: string, name: string): unknown => {
    const v = hooks.global(module, name);
    if (v !== undefined) return v;
    const g = `${module}.${name}`;
    foreign.push(g);
    return new PyForeign(g);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (fn instanceof PyForeign) return fn;
    if (!Array.isArray(args)) fail('the pickle calls a function with arguments that are not a tuple');
    return hooks.call(fn, args as unknown[]);
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (items.length % 2 !== 0) fail('the pickle sets a dict item without a value');
    if (d instanceof PyForeign) return;
    if (!(d instanceof PyDict)) fail('the pickle sets items on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) (d as PyDict).set(items[i], items[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (l instanceof PyForeign) return;
    if (l instanceof PySet) l.items.push(...items);
    else if (Array.isArray(l)) l.push(...items);
    else fail('the pickle appends to something that is not a list');
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('the pickle uses a protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix only
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length !== 0) fail('the pickle stops with a malformed stack');
        return { value: stack[0], foreign };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8())));
        break;
      case 0x8b: { // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0) fail('the pickle has a negative LONG4 length');
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x49: { // INT (text)
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else stack.push(intOf(BigInt(s)));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(intOf(BigInt(line().replace(/L$/, ''))));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(unescapeRawUnicode(line()));
        break;
      case 0x53: { // STRING (quoted repr text)
        const s = line();
        stack.push(unescapeRepr(s.slice(1, -1)));
        break;
      }
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(Buffer.from(bytes(view.getInt32(need(4), true))).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(Buffer.from(bytes(u8())).toString('latin1'));
        break;
      case 0x42: // BINBYTES
        stack.push(new PyBytes(bytes(u32()).slice()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(bytes(u8()).slice()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(new PyBytes(bytes(u64()).slice()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: { // TUPLE
        // popMark() replaces `stack`: take its result before touching the stack.
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: { // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new PySet());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark();
        stack.push(new PySet(items));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(line())));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('the pickle names a global with values that are not strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyForeign) && kwargs instanceof PyDict && kwargs.size > 0) fail('the pickle constructs an object with keyword arguments');
        stack.push(call(cls, args));
        break;
      }
      case 0x69: { // INST module\nname\n: cls(*args since MARK)
        const module = line();
        const cls = resolve(module, line());
        const args = popMark();
        stack.push(call(cls, args));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args… → cls(*args)
        const items = popMark();
        if (items.length === 0) fail('the pickle has an OBJ with no class');
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x62: { // BUILD: setstate; for data only an OrderedDict's attributes matter
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(hooks.persistentLoad(line()));
        break;
      case 0x98: // READONLY_BUFFER: no-op on our bytes
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        fail('the pickle uses the copyreg extension registry (EXT opcodes), which a state dict never does');
        break;
      case 0x97:
        fail('the pickle refers to out-of-band buffers, which a state dict never does');
        break;
      default:
        fail(`the pickle has an unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

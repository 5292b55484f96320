/**
 * MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md), written from the spec for
 * the Redis adapters, which must read and write what socket.io's official adapters exchange:
 * `@socket.io/redis-adapter` uses notepack.io, `@socket.io/redis-streams-adapter` uses
 * @msgpack/msgpack. Values map like JSON's plus binaries and Dates:
 *
 *   encode: null/undefined -> nil, boolean, number -> smallest int form or float 64, string -> str,
 *           ArrayBuffer and every ArrayBufferView -> bin (their bytes), Date -> timestamp (ext -1),
 *           array -> array, other objects -> map of own enumerable string keys (toJSON applied)
 *   decode: nil -> null, int/float -> number, str -> string, bin -> Uint8Array (or `binary(...)`),
 *           timestamp -> Date, array -> array, map -> plain object; plus the ext encodings that
 *           notepack.io still decodes for backward compatibility (see {@link decodeMsgpack})
 *
 * Pure: no I/O and no Node built-ins (Uint8Array, DataView, TextEncoder and TextDecoder only).
 * Never throws on bad data: results are values.
 */

import { utf8Length } from "./utf8-length.js";

/** Options of {@link encodeMsgpack}. */
export interface MsgpackEncodeOptions {
  /**
   * Deepest nesting of arrays and maps written (default 1000): the outermost array or map is level
   * 1. Deeper data, and circular data (which nests without end), is refused.
   */
  maxDepth?: number;
}

/** Result of {@link encodeMsgpack}. */
export type MsgpackEncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** Options of {@link decodeMsgpack}. */
export interface MsgpackDecodeOptions {
  /**
   * Deepest nesting of arrays and maps accepted (default 500): the outermost array or map is level
   * 1. Deeper input is refused as soon as its header is read.
   */
  maxDepth?: number;
  /**
   * Makes the value for a bin (and for notepack.io's legacy ArrayBuffer ext). It receives a view on
   * the input's memory, valid as long as the input is. Default: that Uint8Array view itself. Node
   * callers who want Buffers pass
   * `(bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)`. If it throws, the
   * decode fails with `{ ok: false }`.
   */
  binary?: (bytes: Uint8Array) => unknown;
}

/** Result of {@link decodeMsgpack}. */
export type MsgpackDecodeResult = { ok: true; value: unknown } | { ok: false; reason: string };

/** The default of {@link MsgpackEncodeOptions.maxDepth}: the socket.io encoder's limit. */
export const DEFAULT_ENCODE_MAX_DEPTH = 1000;
/** The default of {@link MsgpackDecodeOptions.maxDepth}. */
export const DEFAULT_DECODE_MAX_DEPTH = 500;

/** The ext type the spec reserves for timestamps. */
const EXT_TIMESTAMP = -1;
/** notepack.io's own ext type (before it followed the spec): undefined, Date or ArrayBuffer. */
const EXT_NOTEPACK_LEGACY = 0;

const TWO_32 = 0x1_0000_0000;

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * Encodes `value`, following JSON.stringify's rules where MessagePack has no better type:
 *
 * - null and undefined become nil; integers take the smallest int form (beyond 32 bits only safe
 *   integers, others are float 64); every other number, NaN and ±Infinity included, is float 64;
 *   -0 becomes 0 (as notepack.io, @msgpack/msgpack and JSON write it).
 * - Strings are UTF-8; a lone surrogate becomes U+FFFD (as TextEncoder writes it).
 * - ArrayBuffer, SharedArrayBuffer and every ArrayBufferView (Uint8Array, Buffer, DataView, other
 *   typed arrays) become bin holding their bytes. notepack.io writes an Int16Array's elements
 *   truncated to bytes instead; socket.io's own parser sends the bytes, as here.
 * - A Date becomes a timestamp (ext -1, the smallest of the 32/64/96-bit forms, as notepack.io and
 *   @msgpack/msgpack choose them); an invalid Date becomes nil (JSON gives null).
 * - Arrays become arrays; undefined, functions and symbols in them become nil (JSON's null).
 * - Objects with a toJSON method (Date aside) are replaced by its result, called with the key as
 *   JSON.stringify calls it, and not applied again to that result; Number, String and Boolean
 *   objects by their primitive value; any other object becomes a map of its own enumerable string
 *   keys, leaving out keys whose value is undefined, a function or a symbol.
 *
 * Errors, as values: a function or symbol as the whole value, a BigInt without toJSON, nesting
 * deeper than `maxDepth` (circular data included), a string or binary over 4 GiB, or a getter,
 * proxy trap or toJSON method that throws.
 *
 * The bytes never share memory with `value`, but, like a small Node Buffer from
 * `Buffer.allocUnsafe`, they are a view on a pool shared with other results: use `byteOffset` and
 * `byteLength` with `bytes.buffer` (`Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)`
 * wraps them without a copy). Allocating an ArrayBuffer per message costs more than the encoding
 * of a typical broadcast.
 *
 * @throws RangeError for a `maxDepth` that is not a non-negative integer (a programming error)
 */
export function encodeMsgpack(value: unknown, options?: MsgpackEncodeOptions): MsgpackEncodeResult {
  const maxDepth = depthOption(options?.maxDepth, DEFAULT_ENCODE_MAX_DEPTH);
  const type = typeof value;
  if (type === "function" || type === "symbol") {
    return { ok: false, reason: `a ${type} cannot be encoded` };
  }
  // A call made from inside another (by a toJSON method or a getter) gets a writer of its own, so
  // it cannot write over the bytes the outer call has written so far.
  const nested = sharedWriter.busy;
  const writer = nested ? new Writer() : sharedWriter;
  writer.busy = true;
  writer.maxDepth = maxDepth;
  writer.begin();
  try {
    writer.write(value, 0, "", false);
    return { ok: true, bytes: writer.finish() };
  } catch (error) {
    return { ok: false, reason: encodeFailure(error, maxDepth) };
  } finally {
    writer.busy = false;
  }
}

/** Size of the chunks results are carved from; a result that outgrows one gets its own buffer. */
const POOL_SIZE = 64 * 1024;
/** A chunk with less room left than this is replaced before the next message, not after. */
const POOL_MIN_LEFT = 1024;
const EMPTY: Uint8Array = new Uint8Array(0);
/** Strings up to this many UTF-16 units are written by a JS loop; longer ones by encodeInto. */
const SHORT_STRING = 64;

const textEncoder = new TextEncoder();

/** Thrown inside the encoder for data that cannot be encoded; turned into `{ ok: false }`. */
class EncodeFault {
  constructor(readonly reason: string) {}
}

/** Thrown past maxDepth: a separate class, so the reason can name the limit. */
class TooDeep {}
const TOO_DEEP = new TooDeep();

function encodeFailure(error: unknown, maxDepth: number): string {
  if (error instanceof EncodeFault) return error.reason;
  if (error instanceof TooDeep) return `data nested deeper than ${maxDepth} levels or circular`;
  // V8's "Maximum call stack size exceeded", when maxDepth is set beyond what the stack allows.
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return "data nested too deeply for the call stack";
  }
  return `data cannot be encoded: ${describe(error)}`;
}

/**
 * The output buffer and the recursive writer. A message is written at `base` in the current
 * chunk, right after the previous message; when it does not fit, what is written so far moves to
 * a new chunk (at least twice the size needed, so appends cost amortized O(1)) and `base` becomes
 * 0. Code that must come back to a position after writing more keeps it relative to `base`.
 */
class Writer {
  buf: Uint8Array = EMPTY;
  view: DataView = new DataView(EMPTY.buffer);
  base = 0;
  pos = 0;
  maxDepth = DEFAULT_ENCODE_MAX_DEPTH;
  busy = false;

  begin(): void {
    if (this.buf.length - this.pos < POOL_MIN_LEFT) this.setBuffer(new Uint8Array(POOL_SIZE));
    this.base = this.pos;
  }

  /** The message as a view; the chunk's rest serves the next one unless it is an oversized chunk. */
  finish(): Uint8Array {
    const bytes = new Uint8Array(this.buf.buffer, this.base, this.pos - this.base);
    if (this.buf.length > POOL_SIZE) {
      this.setBuffer(EMPTY); // do not keep a chunk grown for one huge message for later ones
    } else {
      this.pos = (this.pos + 7) & ~7; // the next message starts 8-byte aligned
    }
    return bytes;
  }

  setBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer);
    this.pos = 0;
    this.base = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const written = this.buf.subarray(this.base, this.pos);
    const grown = new Uint8Array(Math.max(POOL_SIZE, (written.length + n) * 2));
    grown.set(written);
    this.setBuffer(grown);
    this.pos = written.length;
  }

  /**
   * @param depth arrays and maps enclosing `value`
   * @param key what JSON.stringify would pass to `value.toJSON`
   * @param fromToJSON `value` is a toJSON result (JSON.stringify applies toJSON once per position)
   */
  write(value: unknown, depth: number, key: string | number, fromToJSON: boolean): void {
    switch (typeof value) {
      case "string":
        this.string(value);
        return;
      case "number":
        this.number(value);
        return;
      case "boolean":
        this.ensure(1);
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case "object":
        if (value === null) this.nil();
        else this.object(value, depth, key, fromToJSON);
        return;
      case "bigint": {
        const toJSON = (value as unknown as { toJSON?: unknown }).toJSON;
        if (typeof toJSON !== "function" || fromToJSON) {
          throw new EncodeFault("a BigInt cannot be encoded (it has no toJSON method)");
        }
        this.write(toJSON.call(value, String(key)), depth, key, true);
        return;
      }
      default:
        // undefined; and functions and symbols, which only get here inside arrays (map entries
        // holding them are left out, and encodeMsgpack refuses them as the whole value).
        this.nil();
    }
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  number(n: number): void {
    this.ensure(9);
    const buf = this.buf;
    let pos = this.pos;
    if ((n | 0) === n) {
      // An int32 (-0 included, written as 0).
      if (n >= 0) {
        if (n < 0x80) {
          buf[pos++] = n;
        } else if (n < 0x100) {
          buf[pos++] = 0xcc;
          buf[pos++] = n;
        } else if (n < 0x10000) {
          buf[pos++] = 0xcd;
          buf[pos++] = n >>> 8;
          buf[pos++] = n;
        } else {
          buf[pos++] = 0xce;
          this.view.setUint32(pos, n);
          pos += 4;
        }
      } else if (n >= -0x20) {
        buf[pos++] = n & 0xff; // negative fixint: the byte is the two's complement value
      } else if (n >= -0x80) {
        buf[pos++] = 0xd0;
        buf[pos++] = n & 0xff;
      } else if (n >= -0x8000) {
        buf[pos++] = 0xd1;
        buf[pos++] = (n >> 8) & 0xff;
        buf[pos++] = n & 0xff;
      } else {
        buf[pos++] = 0xd2;
        this.view.setInt32(pos, n);
        pos += 4;
      }
    } else if (Number.isSafeInteger(n)) {
      if (n > 0) {
        if (n < TWO_32) {
          buf[pos++] = 0xce;
          this.view.setUint32(pos, n);
          pos += 4;
        } else {
          buf[pos++] = 0xcf;
          this.view.setUint32(pos, Math.floor(n / TWO_32));
          this.view.setUint32(pos + 4, n >>> 0);
          pos += 8;
        }
      } else {
        // Below -2^31 (the int32 branch took the rest): two's complement over 64 bits, the high
        // word being floor(n / 2^32) and the low word n mod 2^32.
        buf[pos++] = 0xd3;
        this.view.setInt32(pos, Math.floor(n / TWO_32));
        this.view.setUint32(pos + 4, n >>> 0);
        pos += 8;
      }
    } else {
      // Fractions, NaN, ±Infinity and integers beyond 2^53, which only float 64 carries exactly.
      buf[pos++] = 0xcb;
      this.view.setFloat64(pos, n);
      pos += 8;
    }
    this.pos = pos;
  }

  /**
   * The bytes go right after a header sized for the string as if it were ASCII (its UTF-8 length
   * then equals its length); when the real length needs another header size, the bytes move.
   * That avoids a separate pass to measure the UTF-8 length first.
   */
  string(s: string): void {
    const n = s.length;
    if (n > SHORT_STRING) {
      this.longString(s);
      return;
    }
    this.ensure(n * 3 + 5); // UTF-16 unit -> at most 3 bytes (a surrogate pair: 2 units -> 4)
    const buf = this.buf;
    const start = this.pos;
    const guess = strHeaderSize(n);
    const dataStart = start + guess;
    let end = dataStart;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[end++] = c;
    }
    if (i < n) end = writeUtf8(buf, end, s, i);
    const length = end - dataStart;
    const header = strHeaderSize(length);
    if (header !== guess) buf.copyWithin(start + header, dataStart, end);
    this.strHeader(start, header, length);
    this.pos = start + header + length;
  }

  /**
   * encodeInto writes into whatever room the chunk has, at least the string's length (enough for
   * ASCII); a string that needs more has its remaining UTF-8 length counted, the buffer grows and
   * encodeInto goes on from where it stopped (it never splits a surrogate pair).
   */
  longString(s: string): void {
    const n = s.length;
    const guess = strHeaderSize(n);
    this.ensure(guess + n);
    const at = this.pos - this.base; // relative: the buffer may move
    let read = 0;
    this.pos += guess;
    for (;;) {
      const rest = read === 0 ? s : s.slice(read);
      const done = textEncoder.encodeInto(rest, this.buf.subarray(this.pos));
      read += done.read;
      this.pos += done.written;
      if (read >= n) break;
      this.ensure(utf8Length(s, read));
    }
    const length = this.pos - (this.base + at + guess);
    if (length > 0xffff_ffff) throw new EncodeFault("a string longer than 4 GiB in UTF-8");
    const header = strHeaderSize(length);
    if (header !== guess) {
      this.ensure(header - guess);
      const dataStart = this.base + at + guess;
      this.buf.copyWithin(dataStart + header - guess, dataStart, this.pos);
      this.pos += header - guess;
    }
    this.strHeader(this.base + at, header, length);
  }

  strHeader(start: number, header: number, length: number): void {
    const buf = this.buf;
    if (header === 1) {
      buf[start] = 0xa0 | length;
    } else if (header === 2) {
      buf[start] = 0xd9;
      buf[start + 1] = length;
    } else if (header === 3) {
      buf[start] = 0xda;
      buf[start + 1] = length >>> 8;
      buf[start + 2] = length;
    } else {
      buf[start] = 0xdb;
      this.view.setUint32(start + 1, length);
    }
  }

  object(value: object, depth: number, key: string | number, fromToJSON: boolean): void {
    if (Array.isArray(value)) {
      this.array(value, depth);
      return;
    }
    if (ArrayBuffer.isView(value)) {
      this.bin(
        value instanceof Uint8Array
          ? value
          : new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
      );
      return;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      // Checked before toJSON, as notepack.io does: a Date is a timestamp, not its ISO string.
      if (value instanceof Date) {
        this.date(value);
        return;
      }
      if (!fromToJSON) {
        this.write(toJSON.call(value, String(key)), depth, key, true);
        return;
      }
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Not a plain object: the rarer kinds, kept off the common path.
      if (value instanceof ArrayBuffer || isSharedArrayBuffer(value)) {
        this.bin(new Uint8Array(value as ArrayBuffer));
        return;
      }
      if (value instanceof Date) {
        this.date(value); // a Date whose toJSON was removed
        return;
      }
      // JSON.stringify unwraps these boxed primitives.
      if (value instanceof Number || value instanceof String || value instanceof Boolean) {
        this.write(value.valueOf(), depth, key, true);
        return;
      }
      if (typeof BigInt === "function" && value instanceof BigInt) {
        throw new EncodeFault("a BigInt cannot be encoded (it has no toJSON method)");
      }
    }
    this.map(value as Record<string, unknown>, depth);
  }

  array(array: unknown[], depth: number): void {
    if (depth >= this.maxDepth) throw TOO_DEEP;
    const n = array.length;
    this.ensure(5);
    const buf = this.buf;
    if (n < 0x10) {
      buf[this.pos++] = 0x90 | n;
    } else if (n < 0x10000) {
      buf[this.pos] = 0xdc;
      buf[this.pos + 1] = n >>> 8;
      buf[this.pos + 2] = n;
      this.pos += 3;
    } else {
      buf[this.pos] = 0xdd;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    for (let i = 0; i < n; i++) this.write(array[i], depth + 1, i, false);
  }

  /**
   * One byte is kept for the header (a fixmap's) and the entries follow; a map of 16 or more
   * entries moves them to make room for its longer header. Entries whose value is undefined, a
   * function or a symbol are left out, as JSON does. Each value is read once, so a getter runs
   * once. for...in with hasOwnProperty.call is V8's fastest walk over own keys (twice as fast as
   * Object.keys, which allocates), and lists them in the same order.
   */
  map(record: Record<string, unknown>, depth: number): void {
    if (depth >= this.maxDepth) throw TOO_DEEP;
    this.ensure(1);
    const at = this.pos - this.base; // relative: the buffer may move while the entries are written
    this.pos++;
    let count = 0;
    for (const key in record) {
      if (!hasOwnProp.call(record, key)) continue;
      const item = record[key];
      if (item === undefined) continue;
      const type = typeof item;
      if (type === "function" || type === "symbol") continue;
      this.string(key);
      this.write(item, depth + 1, key, false);
      count++;
    }
    if (count < 0x10) {
      this.buf[this.base + at] = 0x80 | count;
      return;
    }
    const header = count < 0x10000 ? 3 : 5;
    this.ensure(header - 1);
    const start = this.base + at;
    const buf = this.buf;
    buf.copyWithin(start + header, start + 1, this.pos);
    this.pos += header - 1;
    if (header === 3) {
      buf[start] = 0xde;
      buf[start + 1] = count >>> 8;
      buf[start + 2] = count;
    } else {
      buf[start] = 0xdf;
      this.view.setUint32(start + 1, count);
    }
  }

  bin(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    if (n > 0xffff_ffff) throw new EncodeFault("a binary longer than 4 GiB");
    this.ensure(n + 5);
    const buf = this.buf;
    let pos = this.pos;
    if (n < 0x100) {
      buf[pos++] = 0xc4;
      buf[pos++] = n;
    } else if (n < 0x10000) {
      buf[pos++] = 0xc5;
      buf[pos++] = n >>> 8;
      buf[pos++] = n;
    } else {
      buf[pos++] = 0xc6;
      this.view.setUint32(pos, n);
      pos += 4;
    }
    if (n <= 16) {
      for (let i = 0; i < n; i++) buf[pos + i] = bytes[i];
    } else {
      buf.set(bytes, pos);
    }
    this.pos = pos + n;
  }

  /**
   * The spec's timestamp, in the smallest form that holds it (JS Dates have millisecond precision,
   * so nanoseconds are whole milliseconds): 32 bits for whole seconds in [0, 2^32), 64 bits for
   * seconds in [0, 2^34), 96 bits (signed 64-bit seconds) otherwise, e.g. before 1970.
   */
  date(date: Date): void {
    const ms = date.getTime();
    if (!Number.isFinite(ms)) {
      this.nil();
      return;
    }
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1_000_000;
    this.ensure(15);
    const buf = this.buf;
    const view = this.view;
    const pos = this.pos;
    if (sec >= 0 && sec < 0x4_0000_0000) {
      if (nsec === 0 && sec < TWO_32) {
        buf[pos] = 0xd6;
        buf[pos + 1] = 0xff;
        view.setUint32(pos + 2, sec);
        this.pos = pos + 6;
      } else {
        // nsec in the high 30 bits, seconds in the low 34 bits.
        buf[pos] = 0xd7;
        buf[pos + 1] = 0xff;
        view.setUint32(pos + 2, nsec * 4 + Math.floor(sec / TWO_32));
        view.setUint32(pos + 6, sec >>> 0);
        this.pos = pos + 10;
      }
    } else {
      buf[pos] = 0xc7;
      buf[pos + 1] = 12;
      buf[pos + 2] = 0xff;
      view.setUint32(pos + 3, nsec);
      view.setInt32(pos + 7, Math.floor(sec / TWO_32));
      view.setUint32(pos + 11, sec >>> 0);
      this.pos = pos + 15;
    }
  }
}

const sharedWriter = new Writer();
const hasOwnProp = Object.prototype.hasOwnProperty;

function strHeaderSize(length: number): number {
  return length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/**
 * Writes `s` from unit `i` on as UTF-8 at `pos`; returns the end. A lone surrogate becomes U+FFFD,
 * as TextEncoder writes it, so both paths of {@link Writer.string} give the same bytes.
 */
function writeUtf8(buf: Uint8Array, pos: number, s: string, i: number): number {
  const n = s.length;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else {
        buf[pos++] = 0xef;
        buf[pos++] = 0xbf;
        buf[pos++] = 0xbd;
      }
    }
  }
  return pos;
}

function isSharedArrayBuffer(value: object): boolean {
  return typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer;
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Decodes one MessagePack value that fills `bytes` exactly. Every format of the spec is read:
 *
 * - int formats (uint 64 and int 64 too) -> number, the nearest double beyond ±2^53; float 32 and
 *   float 64 -> number; nil -> null; str -> string; bin -> `binary(view)` (default: the view);
 *   array -> array; map -> plain object (prototype Object.prototype).
 * - str bytes that are not valid UTF-8 are decoded with U+FFFD replacement characters, as
 *   TextDecoder does by default (a leading byte order mark is kept, not stripped).
 * - Map keys must be strings or numbers (numbers become their String()); a later duplicate key
 *   wins, as in JSON.parse. `__proto__` becomes an own property, never the object's prototype.
 * - Ext type -1 (timestamp) with 4, 8 or 12 bytes of data, in any fixext or ext format -> Date,
 *   floored to the millisecond (an Invalid Date beyond the ±8.64e15 ms a Date holds); nanoseconds
 *   over 999999999 are refused, as the spec forbids them.
 * - notepack.io's legacy ext type 0, which notepack.io still decodes: fixext 1 -> undefined,
 *   fixext 8 -> Date (a signed 64-bit millisecond count), ext 8/16/32 -> a binary (notepack.io
 *   gives an ArrayBuffer; here `binary(view)` as for bin).
 * - Any other ext is refused (`{ ok: false }`): socket.io's adapters never write one, and there is
 *   no faithful value to give it (notepack.io makes a `[type, Buffer]` array, @msgpack/msgpack an
 *   ExtData object).
 *
 * Hostile input cannot make it allocate beyond the input's size: every declared length and count
 * is checked against the bytes left before anything is allocated. Refused, as values: truncated
 * input, trailing bytes after the value, the never-used byte 0xc1, nesting deeper than `maxDepth`,
 * other key types, other ext types, or a `binary` callback that throws.
 *
 * @throws RangeError for a `maxDepth` that is not a non-negative integer (a programming error)
 */
export function decodeMsgpack(
  bytes: Uint8Array,
  options?: MsgpackDecodeOptions,
): MsgpackDecodeResult {
  const maxDepth = depthOption(options?.maxDepth, DEFAULT_DECODE_MAX_DEPTH);
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: "the input is not a Uint8Array" };
  const reader = new Reader(bytes, maxDepth, options?.binary);
  try {
    const value = reader.read(0);
    const left = bytes.length - reader.pos;
    if (left !== 0) return { ok: false, reason: `${left} trailing bytes after the value` };
    return { ok: true, value };
  } catch (error) {
    if (error instanceof DecodeFault) return { ok: false, reason: error.reason };
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return { ok: false, reason: "input nested too deeply for the call stack" };
    }
    return { ok: false, reason: `decoding failed: ${describe(error)}` };
  }
}

/** Thrown inside the decoder for malformed or refused input; turned into `{ ok: false }`. */
class DecodeFault {
  constructor(readonly reason: string) {}
}

// Keeps the byte order mark of a string that starts with one (the default strips it).
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
/** Strings up to this many bytes are tried as ASCII by a JS loop before TextDecoder is used. */
const SHORT_ASCII = 32;

/*
 * A direct-mapped cache of short map keys: a fixed-size table indexed by a hash of the key's
 * bytes, a colliding key replacing the previous one, so its memory is bounded whatever the input.
 * Entries are checked byte for byte, so a collision costs a miss, never a wrong key.
 */
const KEY_CACHE_SLOTS = 1024;
const KEY_CACHE_MAX_LENGTH = 16;
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SLOTS).fill(undefined);
const keyCacheLengths = new Uint8Array(KEY_CACHE_SLOTS);
const keyCacheBytes = new Uint8Array(KEY_CACHE_SLOTS * KEY_CACHE_MAX_LENGTH);

class Reader {
  pos = 0;
  #view: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    readonly maxDepth: number,
    readonly binary: ((bytes: Uint8Array) => unknown) | undefined,
  ) {}

  /** For floats and 32-bit reads; made on first use, as most messages have neither. */
  get view(): DataView {
    this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.#view;
  }

  /** Throws unless `n` more bytes are there (also the check that keeps allocations bounded). */
  need(n: number): void {
    if (n > this.bytes.length - this.pos) {
      throw new DecodeFault(
        `truncated input: ${n} bytes needed at offset ${this.pos}, ${this.bytes.length - this.pos} left`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const value = (b[this.pos] << 8) | b[this.pos + 1];
    this.pos += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  /** @param depth arrays and maps enclosing the value */
  read(depth: number): unknown {
    const prefix = this.u8();
    if (prefix < 0x80) return prefix; // positive fixint
    if (prefix >= 0xe0) return prefix - 0x100; // negative fixint
    if (prefix < 0x90) return this.map(prefix & 0x0f, depth);
    if (prefix < 0xa0) return this.array(prefix & 0x0f, depth);
    if (prefix < 0xc0) return this.str(prefix & 0x1f);
    let value: number;
    switch (prefix) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.u8());
      case 0xc5:
        return this.bin(this.u16());
      case 0xc6:
        return this.bin(this.u32());
      case 0xc7:
        return this.ext(this.u8());
      case 0xc8:
        return this.ext(this.u16());
      case 0xc9:
        return this.ext(this.u32());
      case 0xca:
        this.need(4);
        value = this.view.getFloat32(this.pos);
        this.pos += 4;
        return value;
      case 0xcb:
        this.need(8);
        value = this.view.getFloat64(this.pos);
        this.pos += 8;
        return value;
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        this.need(8);
        value = this.view.getUint32(this.pos) * TWO_32 + this.view.getUint32(this.pos + 4);
        this.pos += 8;
        return value;
      case 0xd0:
        this.need(1);
        return this.view.getInt8(this.pos++);
      case 0xd1:
        this.need(2);
        value = this.view.getInt16(this.pos);
        this.pos += 2;
        return value;
      case 0xd2:
        this.need(4);
        value = this.view.getInt32(this.pos);
        this.pos += 4;
        return value;
      case 0xd3:
        this.need(8);
        // One rounding only: the high word times 2^32 is exact.
        value = this.view.getInt32(this.pos) * TWO_32 + this.view.getUint32(this.pos + 4);
        this.pos += 8;
        return value;
      case 0xd4:
        return this.fixext(1);
      case 0xd5:
        return this.fixext(2);
      case 0xd6:
        return this.fixext(4);
      case 0xd7:
        return this.fixext(8);
      case 0xd8:
        return this.fixext(16);
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16(), depth);
      case 0xdd:
        return this.array(this.u32(), depth);
      case 0xde:
        return this.map(this.u16(), depth);
      case 0xdf:
        return this.map(this.u32(), depth);
      default:
        throw new DecodeFault(`byte 0xc1 (never used by the format) at offset ${this.pos - 1}`);
    }
  }

  str(length: number): string {
    this.need(length);
    const b = this.bytes;
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    if (length <= SHORT_ASCII) {
      // Short strings (map keys, event names) are nearly always ASCII: a JS loop beats the native
      // call TextDecoder costs. Anything else goes to TextDecoder, so the rules stay its own.
      let s = "";
      let i = start;
      for (; i < end; i++) {
        const c = b[i];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === end) return s;
    }
    return textDecoder.decode(b.subarray(start, end));
  }

  /**
   * A fixstr map key, through {@link keyCache}: the same few keys come in every message, and a
   * cached key is a string V8 has already internalized, which a property store needs.
   */
  key(length: number): string {
    if (length > KEY_CACHE_MAX_LENGTH) return this.str(length);
    this.need(length);
    const b = this.bytes;
    const start = this.pos;
    const end = start + length;
    let hash = length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ b[i], 0x01000193); // FNV-1a
    const slot = (hash >>> 0) & (KEY_CACHE_SLOTS - 1);
    const cached = keyCache[slot];
    if (cached !== undefined && keyCacheLengths[slot] === length) {
      let same = true;
      const offset = slot * KEY_CACHE_MAX_LENGTH - start;
      for (let i = start; i < end; i++) {
        if (keyCacheBytes[offset + i] !== b[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos = end;
        return cached;
      }
    }
    const key = this.str(length);
    keyCache[slot] = key;
    keyCacheLengths[slot] = length;
    keyCacheBytes.set(b.subarray(start, end), slot * KEY_CACHE_MAX_LENGTH);
    return key;
  }

  bin(length: number): unknown {
    this.need(length);
    // A plain Uint8Array even when the input is a Buffer (whose subarray would be a Buffer).
    const b = this.bytes;
    const view = new Uint8Array(b.buffer, b.byteOffset + this.pos, length);
    this.pos += length;
    return this.binary === undefined ? view : this.binary(view);
  }

  array(count: number, depth: number): unknown[] {
    if (depth >= this.maxDepth) throw this.tooDeep();
    // Every element takes at least one byte: a count beyond the bytes left is a lie, refused
    // before the array is allocated.
    this.need(count);
    const array = new Array<unknown>(count);
    for (let i = 0; i < count; i++) array[i] = this.read(depth + 1);
    return array;
  }

  map(count: number, depth: number): Record<string, unknown> {
    if (depth >= this.maxDepth) throw this.tooDeep();
    this.need(count * 2); // a key and a value, at least one byte each
    const record: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const at = this.pos;
      const prefix = this.bytes[at];
      let key: string;
      if (prefix >= 0xa0 && prefix < 0xc0) {
        this.pos++;
        key = this.key(prefix & 0x1f);
      } else {
        const raw = this.read(depth + 1);
        if (typeof raw === "string") key = raw;
        else if (typeof raw === "number") key = String(raw);
        else throw new DecodeFault(`a map key at offset ${at} is neither a string nor a number`);
      }
      const value = this.read(depth + 1);
      if (key === "__proto__") {
        // Assignment would set the prototype; a data property keeps it an ordinary key, and the
        // object stays plain (JSON.stringify, spreading and Object.keys all see the key).
        Object.defineProperty(record, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        record[key] = value;
      }
    }
    return record;
  }

  fixext(length: number): unknown {
    const type = this.exttype();
    if (type === EXT_NOTEPACK_LEGACY && length === 1) {
      this.need(1);
      this.pos++; // notepack.io's undefined: the data byte means nothing
      return undefined;
    }
    if (type === EXT_NOTEPACK_LEGACY && length === 8) {
      this.need(8);
      const view = this.view;
      const ms = view.getInt32(this.pos) * TWO_32 + view.getUint32(this.pos + 4);
      this.pos += 8;
      return new Date(ms);
    }
    return this.extData(type, length);
  }

  ext(length: number): unknown {
    const type = this.exttype();
    if (type === EXT_NOTEPACK_LEGACY) return this.bin(length); // notepack.io's ArrayBuffer
    return this.extData(type, length);
  }

  exttype(): number {
    const byte = this.u8();
    return byte > 0x7f ? byte - 0x100 : byte;
  }

  /** The data of an ext whose type byte was just read: only timestamps are left to handle. */
  extData(type: number, length: number): unknown {
    const at = this.pos;
    if (type !== EXT_TIMESTAMP) {
      throw new DecodeFault(`unsupported ext type ${type} (its data at offset ${at})`);
    }
    this.need(length);
    const view = this.view;
    let sec: number;
    let nsec: number;
    if (length === 4) {
      sec = view.getUint32(at);
      nsec = 0;
    } else if (length === 8) {
      const high = view.getUint32(at);
      nsec = high >>> 2;
      sec = (high & 0x3) * TWO_32 + view.getUint32(at + 4);
    } else if (length === 12) {
      nsec = view.getUint32(at);
      sec = view.getInt32(at + 4) * TWO_32 + view.getUint32(at + 8);
    } else {
      throw new DecodeFault(`a timestamp of ${length} bytes (4, 8 or 12 expected) at offset ${at}`);
    }
    if (nsec > 999_999_999) {
      throw new DecodeFault(`a timestamp with ${nsec} nanoseconds at offset ${at}`);
    }
    this.pos = at + length;
    // Floor, not truncation toward zero, so a time before 1970 is not moved later.
    return new Date(sec * 1000 + Math.floor(nsec / 1_000_000));
  }

  tooDeep(): DecodeFault {
    return new DecodeFault(
      `input nested deeper than ${this.maxDepth} levels at offset ${this.pos - 1}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

function depthOption(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`maxDepth must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "the thrown value cannot be described";
  }
}

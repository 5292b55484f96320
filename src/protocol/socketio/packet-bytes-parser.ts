/**
 * Parses the common Socket.IO packets straight from the UTF-8 bytes of a WebSocket text message,
 * without decoding the whole text to a string and running JSON.parse over it: an EVENT or ACK
 * whose data is one flat array of strings without escapes, numbers, `true`, `false` and `null`
 * (`42["echo","hello"]`, `/chat,3[1,"ok"]`). Each string is decoded once, from its own bytes;
 * its end is found by `json-string-end.ts`.
 *
 * Everything else (other packet types, objects, nested arrays, escapes, whitespace, anything
 * malformed) gives null, and the caller parses the decoded text with `parsePacketText`, which
 * applies every rule and reports every error. So what this parser accepts, it accepts with the
 * value JSON.parse would give; it never refuses anything itself.
 */
import { rememberSafeString } from "./json-safe-strings.js";
import { findStringEnd, loadText } from "./json-string-end.js";
import { type AckPacket, type EventPacket, SocketPacketType } from "./packet-types.js";
import { dataFault } from "./validation.js";

/** Decodes `bytes[start..end)`, valid UTF-8, to a string. */
export type Utf8Decode = (bytes: Uint8Array, start: number, end: number) => string;

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Longer namespaces are left to the text parser (applications use short ones). */
const MAX_NAMESPACE_BYTES = 256;
/** More digits could exceed Number.MAX_SAFE_INTEGER (the text parser reports it). */
const MAX_ID_DIGITS = 15;
/** Integers of up to this many digits are exact when summed digit by digit as doubles. */
const MAX_EXACT_DIGITS = 15;

/**
 * The EVENT or ACK packet in `bytes[start..)`, which must be valid UTF-8 (a WebSocket text
 * message is checked as it arrives); null when the packet is not one of the simple forms this
 * parser takes (the caller then decodes the text and uses `parsePacketText`). The packet's
 * strings but a short first one (an event name) are remembered as needing no escapes, with their
 * UTF-8 length.
 */
export function parsePacketBytes(
  bytes: Uint8Array,
  start: number,
  decode: Utf8Decode,
): EventPacket | AckPacket | null {
  const end = bytes.length;
  if (end - start < 2) return null;
  const type = bytes[start]! - ZERO;
  if (type !== SocketPacketType.Event && type !== SocketPacketType.Ack) return null;
  let i = start + 1;

  let nsp = "/";
  if (bytes[i] === SLASH) {
    const nspStart = i;
    const limit = Math.min(end, nspStart + MAX_NAMESPACE_BYTES);
    while (i < limit && bytes[i] !== COMMA) i++;
    if (bytes[i] !== COMMA) return null;
    nsp = decode(bytes, nspStart, i);
    i++;
  }

  let id: number | undefined;
  if (isDigit(bytes[i]!)) {
    const idStart = i;
    let value = 0;
    while (i < end && isDigit(bytes[i]!)) value = value * 10 + (bytes[i++]! - ZERO);
    if (i - idStart > MAX_ID_DIGITS) return null;
    id = value;
  }
  if (type === SocketPacketType.Ack && id === undefined) return null;

  const data = parseFlatArray(bytes, i, end, decode);
  if (data === null) return null;
  if (type === SocketPacketType.Event) {
    if (dataFault(type, data) !== null) return null;
    return { type, nsp, data: data as EventPacket["data"], id };
  }
  return { type, nsp, data, id: id! };
}

/**
 * The array `bytes[start..end)` holds, when it is a flat array of strings without escapes,
 * numbers, booleans and nulls written without whitespace; null otherwise.
 */
function parseFlatArray(
  bytes: Uint8Array,
  start: number,
  end: number,
  decode: Utf8Decode,
): unknown[] | null {
  if (bytes[start] !== OPEN_BRACKET || bytes[end - 1] !== CLOSE_BRACKET) return null;
  const values: unknown[] = [];
  let i = start + 1;
  if (i === end - 1) return values;
  let loaded = false;
  for (;;) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      if (!loaded) {
        if (!loadText(bytes, start, end)) return null;
        loaded = true;
      }
      const close = findStringEnd(bytes, i + 1);
      if (bytes[close] !== QUOTE) return null;
      let value: string;
      if (values.length === 0 && close - i - 1 <= MAX_NAME_BYTES) {
        // Names are not echoed: they would only take a remembered string's place.
        value = eventName(bytes, i + 1, close, decode);
      } else {
        value = decode(bytes, i + 1, close);
        rememberSafeString(value, close - i - 1);
      }
      values.push(value);
      i = close + 1;
    } else if (c === MINUS || isDigit(c)) {
      const numberEnd = jsonNumberEnd(bytes, i, end);
      if (numberEnd === -1) return null;
      values.push(numberValue(bytes, i, numberEnd, decode));
      i = numberEnd;
    } else if (c === 0x74 /* t */ && matches(bytes, i, end, TRUE)) {
      values.push(true);
      i += 4;
    } else if (c === 0x66 /* f */ && matches(bytes, i, end, FALSE)) {
      values.push(false);
      i += 5;
    } else if (c === 0x6e /* n */ && matches(bytes, i, end, NULL)) {
      values.push(null);
      i += 4;
    } else {
      return null;
    }
    const next = bytes[i];
    if (next === COMMA) {
      i++;
    } else if (next === CLOSE_BRACKET && i === end - 1) {
      return values;
    } else {
      return null;
    }
  }
}

/**
 * The first string of a packet's data (an event's name) when it is short: the same few names
 * come again and again, and giving the same string object each time spares decoding it and lets
 * the listener lookups hash it once. Short ASCII names only, in a small table (bounded: an
 * attacker sending many names only replaces entries).
 */
function eventName(bytes: Uint8Array, start: number, end: number, decode: Utf8Decode): string {
  const length = end - start;
  if (length === 0) return "";
  const slot = (length * 7 + bytes[start]! + bytes[end - 1]!) & (NAME_SLOTS - 1);
  const known = names[slot]!;
  if (known.length === length) {
    let k = 0;
    while (k < length && known.charCodeAt(k) === bytes[start + k]) k++;
    if (k === length) return known;
  }
  const name = decode(bytes, start, end);
  // Only ASCII compares byte for code unit with what comes next time.
  if (name.length === length) names[slot] = name;
  return name;
}

/** Longer first strings are decoded each time. */
const MAX_NAME_BYTES = 32;
const NAME_SLOTS = 64;
const names: string[] = new Array<string>(NAME_SLOTS).fill("");

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function matches(bytes: Uint8Array, at: number, end: number, word: readonly number[]): boolean {
  if (end - at < word.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word[k]) return false;
  return true;
}

/**
 * The end of the JSON number starting at `start` (RFC 8259 section 6:
 * `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), or -1 when none starts there.
 */
function jsonNumberEnd(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  if (bytes[i] === MINUS) i++;
  if (bytes[i] === ZERO) {
    i++;
  } else if (i < end && isDigit(bytes[i]!)) {
    while (i < end && isDigit(bytes[i]!)) i++;
  } else {
    return -1;
  }
  if (bytes[i] === DOT) {
    i++;
    if (!(i < end && isDigit(bytes[i]!))) return -1;
    while (i < end && isDigit(bytes[i]!)) i++;
  }
  const e = bytes[i];
  if (e === 0x65 /* e */ || e === 0x45 /* E */) {
    i++;
    if (bytes[i] === 0x2b /* + */ || bytes[i] === MINUS) i++;
    if (!(i < end && isDigit(bytes[i]!))) return -1;
    while (i < end && isDigit(bytes[i]!)) i++;
  }
  return i;
}

/** The value of the JSON number `bytes[start..end)`, as JSON.parse reads it. */
function numberValue(bytes: Uint8Array, start: number, end: number, decode: Utf8Decode): number {
  const negative = bytes[start] === MINUS;
  const digitsStart = negative ? start + 1 : start;
  if (end - digitsStart <= MAX_EXACT_DIGITS) {
    let value = 0;
    let i = digitsStart;
    while (i < end && isDigit(bytes[i]!)) value = value * 10 + (bytes[i++]! - ZERO);
    // A plain integer: exact (below 2^53), and "-0" gives -0 as JSON.parse does.
    if (i === end) return negative ? -value : value;
  }
  return Number(decode(bytes, start, end));
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= 0x39;
}

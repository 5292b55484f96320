/**
 * Standard base64 (RFC 4648 section 4, "+" and "/") without Node's Buffer, so the protocol codecs
 * run unchanged in browsers. Used by the WebSocket handshake keys and by Engine.IO, which carries
 * binary packets as base64 text in HTTP long-polling payloads ("b" prefix) and, for clients
 * without binary support, in WebSocket text frames.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 61; // "="

/** ASCII code of each 6-bit value. */
const ENCODE_TABLE = new Uint8Array(64);
/** 6-bit value of each ASCII code; 255 marks a byte outside the alphabet. */
const DECODE_TABLE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) {
  const code = ALPHABET.charCodeAt(i);
  ENCODE_TABLE[i] = code;
  DECODE_TABLE[code] = i;
}

/** Outputs up to this many characters go through String.fromCharCode; longer ones through TextDecoder. */
const SMALL_OUTPUT = 1024;
let asciiDecoder: TextDecoder | undefined;

/** Base64 of `bytes`, padded with "=". */
export function encodeBase64(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length === 0) return "";
  const out = new Uint8Array(Math.ceil(length / 3) * 4);
  let o = 0;
  let i = 0;
  const whole = length - (length % 3);
  for (; i < whole; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENCODE_TABLE[n >>> 18];
    out[o++] = ENCODE_TABLE[(n >>> 12) & 63];
    out[o++] = ENCODE_TABLE[(n >>> 6) & 63];
    out[o++] = ENCODE_TABLE[n & 63];
  }
  const rest = length - whole;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out[o++] = ENCODE_TABLE[n >>> 18];
    out[o++] = ENCODE_TABLE[(n >>> 12) & 63];
    out[o++] = PAD;
    out[o++] = PAD;
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out[o++] = ENCODE_TABLE[n >>> 18];
    out[o++] = ENCODE_TABLE[(n >>> 12) & 63];
    out[o++] = ENCODE_TABLE[(n >>> 6) & 63];
    out[o++] = PAD;
  }
  return asciiToString(out);
}

/**
 * Bytes of the base64 text `text.slice(start)`. Padding is optional (unpadded input is what some
 * clients send), but when present it must be correct; characters outside the alphabet, a stray
 * "=", or a length that cannot come from base64 give `null`.
 */
export function decodeBase64(text: string, start = 0): Uint8Array | null {
  let end = text.length;
  if (end - start >= 4 && (end - start) % 4 === 0 && text.charCodeAt(end - 1) === PAD) {
    end--;
    if (text.charCodeAt(end - 1) === PAD) end--;
  }
  const chars = end - start;
  const tail = chars % 4;
  if (tail === 1) return null;
  const out = new Uint8Array(((chars - tail) / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  let o = 0;
  let i = start;
  const whole = end - tail;
  for (; i < whole; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) > 63) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 255;
    out[o++] = n & 255;
  }
  if (tail > 0) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = tail === 3 ? sextet(text, i + 2) : 0;
    if ((a | b | c) > 63) return null;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >>> 16;
    if (tail === 3) out[o++] = (n >>> 8) & 255;
  }
  return out;
}

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  // Codes above 255 (non-Latin-1 characters) are never base64.
  return code > 255 ? 255 : DECODE_TABLE[code];
}

function asciiToString(codes: Uint8Array): string {
  if (codes.length <= SMALL_OUTPUT) {
    // One call for short outputs: cheaper than a TextDecoder round trip.
    return String.fromCharCode.apply(null, codes as unknown as number[]);
  }
  asciiDecoder ??= new TextDecoder();
  return asciiDecoder.decode(codes);
}

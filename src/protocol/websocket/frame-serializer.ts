/**
 * Frame encoding (RFC 6455 section 5.2) and masking (section 5.3).
 * @module
 */

import { cryptoFill } from "../random.js";
import { SIMD_MASK_MIN, simdMaskRange } from "./simd-mask.js";

// Word-wise XOR needs a 4-byte-aligned view (a Uint32Array per call); below about 64 bytes creating
// it costs more than the byte loop (measured on Node 20: equal at 64 B, byte loop 1.7x faster at 32 B).
const WORD_MASK_MIN = 64;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TWO_POW_32 = 0x100000000;

/**
 * Size in bytes (2 to 14) of the header of a frame carrying `payloadLength` bytes, with the
 * shortest length encoding; `masked` adds the 4-byte key.
 */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  const lengthBytes = payloadLength < 126 ? 0 : payloadLength < 0x10000 ? 2 : 8;
  return 2 + lengthBytes + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset` (no allocation: for writers that build a whole
 * batch of frames in one buffer) and returns the offset just past it. Same bytes as
 * {@link encodeFrameHeader}; `target` must have {@link frameHeaderSize} bytes free at `offset`.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  payloadLength: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | null,
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
    offset += 2;
  } else if (payloadLength < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
    offset += 4;
  } else {
    target[offset + 1] = maskBit | 127;
    const high = Math.floor(payloadLength / TWO_POW_32);
    const low = payloadLength >>> 0;
    target[offset + 2] = high >>> 24;
    target[offset + 3] = (high >>> 16) & 0xff;
    target[offset + 4] = (high >>> 8) & 0xff;
    target[offset + 5] = high & 0xff;
    target[offset + 6] = low >>> 24;
    target[offset + 7] = (low >>> 16) & 0xff;
    target[offset + 8] = (low >>> 8) & 0xff;
    target[offset + 9] = low & 0xff;
    offset += 10;
  }
  if (maskKey) {
    target[offset] = maskKey[0];
    target[offset + 1] = maskKey[1];
    target[offset + 2] = maskKey[2];
    target[offset + 3] = maskKey[3];
    offset += 4;
  }
  return offset;
}

/**
 * A frame header of 2 to 14 bytes, using the shortest length encoding.
 * `maskKey` (4 bytes) is null for server frames. `payloadLength` must be a safe integer >= 0.
 */
export function encodeFrameHeader(
  opcode: number,
  payloadLength: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | null,
): Uint8Array {
  const header = new Uint8Array(frameHeaderSize(payloadLength, maskKey !== null));
  writeFrameHeader(header, 0, opcode, payloadLength, fin, rsv1, maskKey);
  return header;
}

/**
 * Header and payload in one new buffer. With a `maskKey` the payload is masked in the new buffer;
 * `payload` itself is never modified. Defaults: `fin` true, `rsv1` false, unmasked.
 * Control frame limits (125 bytes, no fragmentation) are the caller's to respect.
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options?: { fin?: boolean; rsv1?: boolean; maskKey?: Uint8Array | null },
): Uint8Array {
  const fin = options?.fin ?? true;
  const rsv1 = options?.rsv1 ?? false;
  const maskKey = options?.maskKey ?? null;
  const length = payload.length;
  const frame = new Uint8Array(frameHeaderSize(length, maskKey !== null) + length);
  const offset = writeFrameHeader(frame, 0, opcode, length, fin, rsv1, maskKey);
  frame.set(payload, offset);
  if (maskKey && length > 0) maskRange(frame, offset, frame.length, maskKey, 0);
  return frame;
}

/**
 * XORs `data` with the 4-byte `maskKey` in place. `keyOffset` is the index of the key byte that
 * applies to `data[0]`, so a payload can be unmasked piece by piece as it arrives.
 * Masking and unmasking are the same operation.
 */
export function maskInPlace(data: Uint8Array, maskKey: Uint8Array, keyOffset = 0): void {
  maskRange(data, 0, data.length, maskKey, keyOffset & 3);
}

/** XORs `data[start..end)`; `k` is the key index for `data[start]`. */
export function maskRange(
  data: Uint8Array,
  start: number,
  end: number,
  maskKey: Uint8Array,
  k: number,
): void {
  maskRangeWithKey(
    data,
    start,
    end,
    ((maskKey[0] << 24) | (maskKey[1] << 16) | (maskKey[2] << 8) | maskKey[3]) >>> 0,
    k,
  );
}

/**
 * {@link maskRange} with the key as one number (its four bytes big-endian, as on the wire), so a
 * parser can keep the key of the frame being read without a buffer of its own.
 */
export function maskRangeWithKey(
  data: Uint8Array,
  start: number,
  end: number,
  key: number,
  k: number,
): void {
  let i = start;
  if (end - i >= SIMD_MASK_MIN && simdMaskRange !== null) {
    // The key from byte `k` on, as the little-endian integer WebAssembly reads.
    const rotated = k === 0 ? key : ((key << (8 * k)) | (key >>> (32 - 8 * k))) >>> 0;
    // Whole 16-byte blocks: the key index after them is still `k`.
    i = simdMaskRange(data, i, end, byteSwap(rotated));
  } else if (end - i >= WORD_MASK_MIN) {
    // Bytewise up to a 4-byte boundary of the underlying buffer, then whole words.
    while (((data.byteOffset + i) & 3) !== 0) {
      data[i++] ^= keyByte(key, k);
      k = (k + 1) & 3;
    }
    const count = (end - i) >>> 2;
    // The key rotated so that its byte `k` comes first, then laid out in memory order.
    const rotated = k === 0 ? key : ((key << (8 * k)) | (key >>> (32 - 8 * k))) >>> 0;
    const word = LITTLE_ENDIAN ? byteSwap(rotated) : rotated | 0;
    const words = new Uint32Array(data.buffer, data.byteOffset + i, count);
    for (let w = 0; w < count; w++) words[w] ^= word;
    // A whole number of words keeps the key index where it was.
    i += count << 2;
  }
  for (; i < end; i++) {
    data[i] ^= keyByte(key, k);
    k = (k + 1) & 3;
  }
}

/** Byte `k` (0 = first on the wire) of a key held as a big-endian number. */
function keyByte(key: number, k: number): number {
  return (key >>> (24 - 8 * k)) & 0xff;
}

function byteSwap(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/**
 * Hands out fresh 4-byte masking keys from a batch of crypto-strength random bytes, so the
 * per-frame cost is a `subarray`, not a call into the random source (RFC 6455 section 5.3
 * requires a fresh, unpredictable key for every frame).
 */
export class MaskKeyPool {
  readonly #fillRandom: (target: Uint8Array) => void;
  readonly #poolSize: number;
  #pool: Uint8Array;
  #offset: number;

  /**
   * @param fillRandom fills its argument with random bytes (default `crypto.getRandomValues`).
   * @param poolSize bytes fetched per batch; rounded down to a multiple of 4, between 4 and
   *   65536 (the `getRandomValues` limit). Default 4096.
   */
  constructor(fillRandom: (target: Uint8Array) => void = cryptoFill, poolSize = 4096) {
    this.#fillRandom = fillRandom;
    const size = Number.isFinite(poolSize) ? Math.floor(poolSize / 4) * 4 : 4096;
    this.#poolSize = Math.min(Math.max(size, 4), 65536);
    this.#pool = new Uint8Array(0);
    this.#offset = 0;
  }

  /**
   * A fresh key. Each refill allocates a new batch rather than overwriting the old one, so a key
   * stays valid for as long as the caller holds it.
   */
  next(): Uint8Array {
    if (this.#offset + 4 > this.#pool.length) {
      this.#pool = new Uint8Array(this.#poolSize);
      this.#fillRandom(this.#pool);
      this.#offset = 0;
    }
    const key = this.#pool.subarray(this.#offset, this.#offset + 4);
    this.#offset += 4;
    return key;
  }
}

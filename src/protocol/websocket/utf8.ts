/**
 * Strict, incremental UTF-8 validation (RFC 3629; Unicode table 3-7 "well-formed byte sequences").
 * Rejects overlong forms, surrogates (U+D800-U+DFFF) and code points above U+10FFFF, and reports
 * the failure at the first byte that cannot start or continue a well-formed sequence.
 * @module
 */

// Runs at least this long are worth a Uint32Array view (one small allocation) to test four bytes
// per load; shorter runs are checked bytewise so mixed non-Latin text allocates nothing.
const WORD_SCAN_MIN = 64;
const BYTE_PROBE = 16;

/** Index of the first byte >= 0x80 in `bytes[i..end)`, or `end`. */
function skipAscii(bytes: Uint8Array, i: number, end: number): number {
  // Probe a little first: in non-Latin text the run is short and no view should be created.
  const probeEnd = Math.min(i + BYTE_PROBE, end);
  while (i < probeEnd) {
    if (bytes[i] >= 0x80) return i;
    i++;
  }
  if (end - i >= WORD_SCAN_MIN) {
    while (((bytes.byteOffset + i) & 3) !== 0) {
      if (bytes[i] >= 0x80) return i;
      i++;
    }
    const count = (end - i) >>> 2;
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, count);
    let w = 0;
    while (
      w + 4 <= count &&
      ((words[w] | words[w + 1] | words[w + 2] | words[w + 3]) & 0x80808080) === 0
    ) {
      w += 4;
    }
    while (w < count && (words[w] & 0x80808080) === 0) w++;
    i += w << 2;
  }
  while (i + 4 <= end && ((bytes[i] | bytes[i + 1] | bytes[i + 2] | bytes[i + 3]) & 0x80) === 0) {
    i += 4;
  }
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

/**
 * Start of a multi-byte sequence that `bytes[start..end)` leaves unfinished, or `end`.
 * Bytes before the returned index are a candidate for a whole-buffer validator.
 */
function completeEnd(bytes: Uint8Array, start: number, end: number): number {
  for (let k = 1; k <= 4 && end - k >= start; k++) {
    const b = bytes[end - k];
    if ((b & 0xc0) !== 0x80) {
      const length = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
      return length > k ? end - k : end;
    }
  }
  return end;
}

// Below this many bytes the call into a whole-buffer validator costs more than scanning here.
const WHOLE_VALIDATOR_MIN = 256;

/**
 * Validates UTF-8 fed in arbitrary pieces, e.g. the unmasked parts of a text message as they
 * arrive, so a bad byte is caught without waiting for the rest of the message.
 */
export class Utf8Validator {
  readonly #whole: ((bytes: Uint8Array) => boolean) | null;
  /** Continuation bytes still expected by a sequence left open at the end of the last piece. */
  #need = 0;
  /** Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4). */
  #lo = 0x80;
  #hi = 0xbf;
  #failed = false;

  /**
   * @param wholeValidator optional strict validator of complete buffers (such as Node's
   *   `buffer.isUtf8`), used for the bulk of large pieces; sequences cut at piece edges are
   *   still tracked here. It must reject exactly what this class rejects.
   */
  constructor(wholeValidator?: (bytes: Uint8Array) => boolean) {
    this.#whole = wholeValidator ?? null;
  }

  /**
   * Feeds `bytes[start..end)`; returns false as soon as a byte makes the sequence invalid, and
   * keeps returning false until {@link reset}. Out-of-range bounds are clamped.
   */
  feed(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    if (this.#failed) return false;
    end = Math.min(end, bytes.length);
    let i = Math.max(start, 0);
    if (this.#need > 0) {
      // Finish the sequence the previous piece left open.
      let need = this.#need;
      let lo = this.#lo;
      let hi = this.#hi;
      while (need > 0 && i < end) {
        const b = bytes[i++];
        if (b < lo || b > hi) return this.#fail();
        need--;
        lo = 0x80;
        hi = 0xbf;
      }
      this.#need = need;
      this.#lo = lo;
      this.#hi = hi;
      if (need > 0) return true;
    }
    if (this.#whole !== null && end - i >= WHOLE_VALIDATOR_MIN) {
      const cut = completeEnd(bytes, i, end);
      const part = i === 0 && cut === bytes.length ? bytes : bytes.subarray(i, cut);
      if (!this.#whole(part)) return this.#fail();
      i = cut;
    }
    while (i < end) {
      const b = bytes[i];
      if (b < 0x80) {
        i = skipAscii(bytes, i + 1, end);
      } else if (b < 0xc2) {
        // 0x80-0xBF cannot start a sequence; C0 and C1 only start overlong 2-byte forms.
        return this.#fail();
      } else if (b < 0xe0) {
        if (i + 1 >= end) return this.#open(bytes, i + 1, end, 1, 0x80, 0xbf);
        if ((bytes[i + 1] & 0xc0) !== 0x80) return this.#fail();
        i += 2;
      } else if (b < 0xf0) {
        // After E0 a lower second byte would be overlong; after ED a higher one a surrogate.
        const lo = b === 0xe0 ? 0xa0 : 0x80;
        const hi = b === 0xed ? 0x9f : 0xbf;
        if (i + 2 >= end) return this.#open(bytes, i + 1, end, 2, lo, hi);
        const b1 = bytes[i + 1];
        if (b1 < lo || b1 > hi || (bytes[i + 2] & 0xc0) !== 0x80) return this.#fail();
        i += 3;
      } else if (b < 0xf5) {
        // After F0 a lower second byte would be overlong; after F4 a higher one above U+10FFFF.
        const lo = b === 0xf0 ? 0x90 : 0x80;
        const hi = b === 0xf4 ? 0x8f : 0xbf;
        if (i + 3 >= end) return this.#open(bytes, i + 1, end, 3, lo, hi);
        const b1 = bytes[i + 1];
        if (
          b1 < lo ||
          b1 > hi ||
          (bytes[i + 2] & 0xc0) !== 0x80 ||
          (bytes[i + 3] & 0xc0) !== 0x80
        ) {
          return this.#fail();
        }
        i += 4;
      } else {
        return this.#fail();
      }
    }
    return true;
  }

  /** True when nothing invalid was fed and no multi-byte sequence is left open (call at message end). */
  finish(): boolean {
    return !this.#failed && this.#need === 0;
  }

  /** Forgets all state, ready for a new message. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
    this.#failed = false;
  }

  /** A sequence runs past the piece: checks the bytes that are here and keeps it open. */
  #open(bytes: Uint8Array, i: number, end: number, need: number, lo: number, hi: number): boolean {
    while (i < end) {
      const b = bytes[i++];
      if (b < lo || b > hi) return this.#fail();
      need--;
      lo = 0x80;
      hi = 0xbf;
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }

  #fail(): false {
    this.#failed = true;
    return false;
  }
}

// Validation is synchronous and calls out to nothing, so one shared instance is safe.
const shared = new Utf8Validator();

/** Whether `bytes` is complete, well-formed UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  shared.reset();
  const ok = shared.feed(bytes) && shared.finish();
  shared.reset();
  return ok;
}

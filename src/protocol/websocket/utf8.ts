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
 * Validates UTF-8 fed in arbitrary pieces, e.g. the unmasked parts of a text message as they
 * arrive, so a bad byte is caught without waiting for the rest of the message.
 */
export class Utf8Validator {
  /** Continuation bytes still expected by the open sequence. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4). */
  private lo = 0x80;
  private hi = 0xbf;
  private failed = false;

  /**
   * Feeds `bytes[start..end)`; returns false as soon as a byte makes the sequence invalid, and
   * keeps returning false until {@link reset}. Out-of-range bounds are clamped.
   */
  feed(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    if (this.failed) return false;
    if (end > bytes.length) end = bytes.length;
    let i = Math.max(start, 0);
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    while (i < end) {
      if (need === 0) {
        i = skipAscii(bytes, i, end);
        if (i >= end) break;
        const b = bytes[i++];
        if (b < 0xc2) {
          // 0x80-0xBF cannot start a sequence; C0 and C1 only start overlong 2-byte forms.
          this.failed = true;
          return false;
        }
        if (b < 0xe0) {
          need = 1;
        } else if (b < 0xf0) {
          need = 2;
          if (b === 0xe0)
            lo = 0xa0; // below would be an overlong 3-byte form
          else if (b === 0xed) hi = 0x9f; // above would encode a surrogate
        } else if (b < 0xf5) {
          need = 3;
          if (b === 0xf0)
            lo = 0x90; // below would be an overlong 4-byte form
          else if (b === 0xf4) hi = 0x8f; // above would exceed U+10FFFF
        } else {
          this.failed = true;
          return false;
        }
      } else {
        const b = bytes[i++];
        if (b < lo || b > hi) {
          this.failed = true;
          return false;
        }
        need--;
        lo = 0x80;
        hi = 0xbf;
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  /** True when nothing invalid was fed and no multi-byte sequence is left open (call at message end). */
  finish(): boolean {
    return !this.failed && this.need === 0;
  }

  /** Forgets all state, ready for a new message. */
  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
    this.failed = false;
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

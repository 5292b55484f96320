/**
 * Finds where a JSON string written without escapes ends, in UTF-8 bytes: the first `"`, `\` or
 * control character (below 0x20, which JSON forbids raw inside strings). Used by the byte-level
 * packet parser (`packet-bytes-parser.ts`), which takes the string as it is when that byte is
 * the closing quote and leaves every other case to JSON.parse.
 *
 * Long texts are searched 16 bytes per instruction by a few bytes of WebAssembly SIMD written
 * out below (no file, no build step), after one copy of the text into the module's memory: on
 * Node 20, copy and search of 4 KiB take about a tenth of what JSON.parse spends on the same
 * text. Where WebAssembly or its SIMD proposal is missing, long texts are not searched at all
 * (the caller keeps JSON.parse), short ones by a JavaScript loop.
 * @module
 */

/**
 * The module, in the WebAssembly binary format:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "find") (param $i i32) (result i32)
 *     (local $v v128) (local $bits i32)
 *     (loop
 *       (local.set $v (v128.load (local.get $i)))
 *       (if (local.tee $bits (i8x16.bitmask (v128.or
 *             (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 32)))
 *             (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))
 *                      (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92)))))))
 *         (then (return (i32.add (local.get $i) (i32.ctz (local.get $bits))))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 16)))
 *       (br 0))
 *     (unreachable)))
 * ```
 * `find(i)` returns the index of the first byte at or after `i` that is below 0x20, `"` or `\`.
 * It stops only at such a byte: the caller puts 16 quotes after the text it loaded.
 */
const MODULE_BYTES = new Uint8Array([
  // header
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type section: (i32) -> (i32)
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  // function section: one function of type 0
  0x03, 0x02, 0x01, 0x00,
  // memory section: one memory, 1 page (64 KiB)
  0x05, 0x03, 0x01, 0x00, 0x01,
  // export section: "memory" (memory 0), "find" (function 0)
  0x07, 0x11, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x66, 0x69, 0x6e,
  0x64, 0x00, 0x00,
  // code section: one body of 70 bytes; locals: 1 v128 ($v), 1 i32 ($bits)
  0x0a, 0x48, 0x01, 0x46, 0x02, 0x01, 0x7b, 0x01, 0x7f,
  // loop; $v = v128.load $i
  0x03, 0x40, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x01,
  // i8x16.lt_u $v (splat 32)
  0x20, 0x01, 0x41, 0x20, 0xfd, 0x0f, 0xfd, 0x26,
  // i8x16.eq $v (splat 34)
  0x20, 0x01, 0x41, 0x22, 0xfd, 0x0f, 0xfd, 0x23,
  // i8x16.eq $v (splat 92); v128.or; v128.or; i8x16.bitmask; local.tee $bits
  0x20, 0x01, 0x41, 0xdc, 0x00, 0xfd, 0x0f, 0xfd, 0x23, 0xfd, 0x50, 0xfd, 0x50, 0xfd, 0x64, 0x22,
  0x02,
  // if: return $i + ctz($bits); end
  0x04, 0x40, 0x20, 0x00, 0x20, 0x02, 0x68, 0x6a, 0x0f, 0x0b,
  // $i += 16; br 0; end (loop); unreachable; end (function)
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x0b,
]);

/** The quotes written after a loaded text: `find` stops there at the latest. */
const SENTINEL = 16;
/** The module's memory holds texts up to this long (with their sentinel). */
export const MAX_LOADED_LENGTH = 64 * 1024 - SENTINEL;
/** Texts shorter than this are searched by the JavaScript loop (the copy does not pay off). */
export const MIN_LOADED_LENGTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface SimdFinder {
  memory: Uint8Array;
  find: (index: number) => number;
}

function instantiate(): SimdFinder | null {
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(MODULE_BYTES)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE_BYTES));
    return {
      memory: new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer),
      find: instance.exports.find as (index: number) => number,
    };
  } catch {
    // No WebAssembly (or no SIMD, or a policy forbids compiling): short texts only.
    return null;
  }
}

const simd = instantiate();

/**
 * The text being searched (one at a time: callers search synchronously): its end, and where it
 * starts when it is loaded into the WebAssembly memory (-1 when it is searched in place). Numbers
 * only, so that nothing keeps the caller's bytes alive.
 */
let loadedStart = -1;
let loadedEnd = 0;

/**
 * Prepares `bytes[start..end)` for {@link findStringEnd}; false when it cannot be searched here
 * (too long for the module's memory, or long and WebAssembly SIMD is missing).
 */
export function loadText(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  loadedEnd = end;
  if (length < MIN_LOADED_LENGTH) {
    loadedStart = -1;
    return true;
  }
  if (simd === null || length > MAX_LOADED_LENGTH) return false;
  const memory = simd.memory;
  memory.set(bytes.subarray(start, end));
  memory.fill(QUOTE, length, length + SENTINEL);
  loadedStart = start;
  return true;
}

/**
 * The index of the first byte at or after `from` that is a `"`, a `\` or a control character,
 * in the text last given to {@link loadText} (the same `bytes`); its end when there is none.
 */
export function findStringEnd(bytes: Uint8Array, from: number): number {
  const end = loadedEnd;
  if (loadedStart !== -1) return Math.min(simd!.find(from - loadedStart) + loadedStart, end);
  let i = from;
  while (i < end) {
    const c = bytes[i]!;
    if (c < 0x20 || c === QUOTE || c === BACKSLASH) return i;
    i++;
  }
  return end;
}

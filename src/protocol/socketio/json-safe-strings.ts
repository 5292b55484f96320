/**
 * Long strings known to need no escaping in JSON, so that sending them back costs a
 * concatenation instead of a second look at every character: Node 20's JSON.stringify spends
 * about 2 ns per character of a string (8 us for 4 KiB), four times what JSON.parse spent
 * reading it. Echoes, acknowledgements and broadcasts of what a client sent are the common case.
 *
 * The parser vouches for the top-level strings of a packet whose JSON text holds no backslash
 * and is well-formed UTF-16: JSON.parse refuses raw control characters inside strings, so every
 * `"`, `\` and control character of such a text is outside the strings, and none of them holds a
 * lone surrogate. The byte-level parser vouches for the strings it took from UTF-8 bytes between
 * two quotes with no `\` or control character, and tells their length in UTF-8 bytes too, so
 * that the server can write them out without counting. The encoder asks by identity (`===` on
 * the same string is a pointer test).
 *
 * Only the last few strings are remembered, each at most {@link MAX_REMEMBERED_LENGTH} long: a
 * bounded, small amount of memory, whatever the traffic.
 */

/**
 * The text parser looks for backslashes and lone surrogates only in JSON texts longer than this:
 * shorter strings are cheap for JSON.stringify, not worth a scan. The byte-level parser learns
 * that a string needs no escapes at no cost: it remembers strings of any length.
 */
export const MIN_REMEMBERED_LENGTH = 256;
/** Longer strings are not kept alive here (at most SLOTS x this many code units are). */
export const MAX_REMEMBERED_LENGTH = 64 * 1024;
const SLOTS = 4;

const remembered: string[] = new Array<string>(SLOTS).fill("");
/** UTF-8 length of each remembered string in bytes; -1 where the parser did not count it. */
const rememberedUtf8Lengths: number[] = new Array<number>(SLOTS).fill(-1);
let nextSlot = 0;

/** Whether `value` may be remembered: not empty (nothing to save) and not too long to keep. */
function isRememberable(value: string): boolean {
  return value.length > 0 && value.length <= MAX_REMEMBERED_LENGTH;
}

/**
 * Remembers the top-level long strings of `array`, parsed from a JSON text that the caller
 * checked has no backslash and is well-formed.
 */
export function rememberSafeStrings(array: readonly unknown[]): void {
  for (let i = 0; i < array.length; i++) {
    const value = array[i];
    if (typeof value === "string") rememberSafeString(value, -1);
  }
}

/**
 * Remembers `value`, a string that JSON carries without escapes and whose
 * UTF-8 form is `utf8Length` bytes long (-1: not counted).
 */
export function rememberSafeString(value: string, utf8Length: number): void {
  if (!isRememberable(value)) return;
  remembered[nextSlot] = value;
  rememberedUtf8Lengths[nextSlot] = utf8Length;
  nextSlot = (nextSlot + 1) % SLOTS;
}

function slotOf(value: string): number {
  for (let i = 0; i < SLOTS; i++) if (remembered[i] === value) return i;
  return -1;
}

function isKnownSafe(value: string): boolean {
  return slotOf(value) !== -1;
}

/**
 * The UTF-8 length in bytes of `value` when it is remembered as needing no escapes and its length
 * was counted; -1 otherwise.
 */
export function safeStringUtf8Length(value: string): number {
  if (!isRememberable(value)) return -1;
  const slot = slotOf(value);
  return slot === -1 ? -1 : rememberedUtf8Lengths[slot]!;
}

/**
 * `JSON.stringify(array)` for an array of primitives holding at least one remembered string,
 * written without scanning those strings again; `undefined` for any other array (the caller
 * then uses JSON.stringify: objects, nested arrays, undefined, functions or holes, a toJSON).
 */
export function stringifyWithSafeStrings(array: readonly unknown[]): string | undefined {
  if ((array as { toJSON?: unknown }).toJSON !== undefined) return undefined;
  let known = false;
  for (let i = 0; i < array.length; i++) {
    const value = array[i];
    const type = typeof value;
    if (type === "string") {
      if (!known && isRememberable(value as string)) known = isKnownSafe(value as string);
    } else if (!(type === "number" || type === "boolean" || value === null)) {
      return undefined;
    }
  }
  if (!known) return undefined;
  let json = "[";
  for (let i = 0; i < array.length; i++) {
    const value = array[i];
    if (i > 0) json += ",";
    json +=
      typeof value === "string" && isRememberable(value) && isKnownSafe(value)
        ? `"${value}"`
        : JSON.stringify(value);
  }
  return `${json}]`;
}

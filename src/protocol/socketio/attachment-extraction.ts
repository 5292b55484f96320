/**
 * Encoder side of binary attachments: every binary value inside event/ack data is replaced by
 * `{"_placeholder":true,"num":N}` and collected, N counting in the order JSON.stringify meets
 * them (so the text is what the reference encoder writes).
 *
 * Two passes keep the common case cheap: `mayHoldBinary` walks the data without allocating and,
 * when it finds nothing, the caller stringifies the caller's own data untouched. Only data with
 * binary (or with toJSON methods, whose results might hold binary) goes through `extract`, which
 * copies just the arrays and objects on the paths to binary values, never mutating the input.
 */
import { isBinaryData, toUint8Array } from "../engine/binary-data.js";

/** Nesting depth walked before giving up; also how cycles are caught (they nest without end). */
export const MAX_DEPTH = 1000;

/** Thrown inside the walk past {@link MAX_DEPTH}; the encoder turns it into an error value. */
export class NestingTooDeepError extends Error {
  constructor() {
    super(`data is nested deeper than ${MAX_DEPTH} levels or is circular`);
  }
}

/**
 * False when `value` certainly holds no binary and no toJSON method other than Date's (so
 * JSON.stringify can take it as is). True means "run `extract`", which is exact: inherited
 * enumerable properties or excess depth also answer true, to be settled there.
 */
export function mayHoldBinary(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (isBinaryData(value)) return true;
  if (depth >= MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (mayHoldBinary(value[i], depth + 1)) return true;
    }
    return false;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return !(value instanceof Date);
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (mayHoldBinary(record[key], depth + 1)) return true;
  }
  return false;
}

/**
 * `value` with binary values replaced by placeholders (pushed onto `attachments`), applying
 * toJSON methods as JSON.stringify would (Date's is left to JSON.stringify). Returns `value`
 * itself when nothing inside changed. Throws {@link NestingTooDeepError} past {@link MAX_DEPTH}.
 *
 * @param key the property name or index `value` sits under, passed to toJSON like JSON.stringify
 * @param fromToJSON true when `value` is a toJSON result (JSON.stringify does not call toJSON again)
 */
export function extract(
  value: unknown,
  key: string | number,
  attachments: Uint8Array[],
  depth: number,
  fromToJSON = false,
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (isBinaryData(value)) {
    attachments.push(toUint8Array(value));
    return { _placeholder: true, num: attachments.length - 1 };
  }
  if (depth >= MAX_DEPTH) throw new NestingTooDeepError();
  if (Array.isArray(value)) return extractFromArray(value, attachments, depth);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (!fromToJSON && typeof toJSON === "function") {
    if (value instanceof Date) return value;
    return extract(toJSON.call(value, String(key)), key, attachments, depth + 1, true);
  }
  return extractFromObject(value as Record<string, unknown>, attachments, depth);
}

function extractFromArray(array: unknown[], attachments: Uint8Array[], depth: number): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const replaced = extract(item, i, attachments, depth + 1);
    if (replaced !== item) {
      copy ??= array.slice();
      copy[i] = replaced;
    }
  }
  return copy ?? array;
}

function extractFromObject(
  record: Record<string, unknown>,
  attachments: Uint8Array[],
  depth: number,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    // JSON.stringify serializes own enumerable properties only.
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    const replaced = extract(item, key, attachments, depth + 1);
    if (replaced !== item) {
      copy ??= copyOwnEnumerable(record);
      setOwn(copy, key, replaced);
    }
  }
  return copy ?? record;
}

function copyOwnEnumerable(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in record) {
    if (Object.hasOwn(record, key)) setOwn(copy, key, record[key]);
  }
  return copy;
}

/**
 * Assignment, except that "__proto__" becomes an own property instead of changing the prototype
 * (for plain objects and arrays, whose other keys have no setters).
 */
export function setOwn(target: object, key: string | number, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    (target as Record<string | number, unknown>)[key] = value;
  }
}

/**
 * Decoder side of binary attachments. When the text of a BINARY_EVENT/BINARY_ACK arrives, its
 * placeholders (`{"_placeholder":true,"num":N}`) are located and checked against the announced
 * attachment count at once, so a bad packet fails before any binary part is buffered; when the
 * last part arrives each placeholder is replaced by its part.
 *
 * The walk is iterative: JSON.parse accepts nesting far deeper than the call stack allows.
 */
import { setOwn } from "./attachment-extraction.js";

/** One placeholder: where it sits and which attachment replaces it. */
export interface PlaceholderSlot {
  holder: unknown[] | Record<string, unknown>;
  key: number | string;
  num: number;
}

/**
 * Every placeholder inside `data` (JSON.parse output), or the reason one is invalid: `num` must be
 * an integer from 0 to `attachments - 1`. Attachments no placeholder refers to are tolerated, as
 * the reference decoder does.
 */
export function findPlaceholders(data: unknown, attachments: number): PlaceholderSlot[] | string {
  const slots: PlaceholderSlot[] = [];
  if (typeof data !== "object" || data === null) return slots;
  const pending: (unknown[] | Record<string, unknown>)[] = [data as Record<string, unknown>];
  while (pending.length > 0) {
    const container = pending.pop()!;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const fault = visit(container, i, container[i], attachments, slots, pending);
        if (fault !== null) return fault;
      }
    } else {
      for (const key in container) {
        const fault = visit(container, key, container[key], attachments, slots, pending);
        if (fault !== null) return fault;
      }
    }
  }
  return slots;
}

function visit(
  holder: unknown[] | Record<string, unknown>,
  key: number | string,
  value: unknown,
  attachments: number,
  slots: PlaceholderSlot[],
  pending: (unknown[] | Record<string, unknown>)[],
): string | null {
  if (typeof value !== "object" || value === null) return null;
  if (Array.isArray(value)) {
    pending.push(value);
    return null;
  }
  const record = value as Record<string, unknown>;
  if (record._placeholder !== true) {
    pending.push(record);
    return null;
  }
  const num = record.num;
  if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= attachments) {
    return "invalid attachment placeholder";
  }
  slots.push({ holder, key, num });
  return null;
}

/** Puts each attachment where its placeholders were (in place: the data is the decoder's own). */
export function fillPlaceholders(
  slots: readonly PlaceholderSlot[],
  parts: readonly Uint8Array[],
): void {
  // setOwn: a "__proto__" key (an own property in JSON.parse output) stays a plain key.
  for (const { holder, key, num } of slots) setOwn(holder, key, parts[num]);
}

/** How `duplexio connect` shows binary data. */
export type BinaryEncoding = "hex" | "base64";

/** Bytes shown of a binary message; the rest is counted, not printed (a terminal is no hex dump). */
const SHOWN_BYTES = 4096;

function asBuffer(bytes: Uint8Array | ArrayBuffer): Buffer {
  return bytes instanceof ArrayBuffer
    ? Buffer.from(bytes)
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `binary (5 bytes): 68656c6c6f`, or with base64 `binary (5 bytes, base64): aGVsbG8=`. */
export function formatBinary(bytes: Uint8Array | ArrayBuffer, encoding: BinaryEncoding): string {
  const buffer = asBuffer(bytes);
  const length = buffer.byteLength;
  const shown = buffer.subarray(0, SHOWN_BYTES).toString(encoding);
  const rest = length > SHOWN_BYTES ? ` ... (${length - SHOWN_BYTES} more bytes)` : "";
  const label = encoding === "hex" ? "" : `, ${encoding}`;
  return `binary (${length} byte${length === 1 ? "" : "s"}${label}): ${shown}${rest}`;
}

/**
 * Socket.IO arguments as JSON values separated by spaces (as `emit` takes them); binary values
 * (Buffers, typed arrays, ArrayBuffers) appear as `{"binary":"<hex or base64>","bytes":N}`
 * instead of Buffer's `{"type":"Buffer","data":[...]}`.
 */
export function formatJsonValues(values: readonly unknown[], encoding: BinaryEncoding): string {
  function replacer(this: unknown, key: string, value: unknown): unknown {
    // `this[key]` is the value before toJSON ran (a Buffer's toJSON hides its bytes).
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
      const view =
        raw instanceof ArrayBuffer
          ? new Uint8Array(raw)
          : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      return { binary: asBuffer(view).toString(encoding), bytes: view.byteLength };
    }
    return value;
  }
  return values
    .map((value) => {
      try {
        // undefined (an argument the server left out) has no JSON form: shown as null.
        return JSON.stringify(value, replacer) ?? "null";
      } catch (error) {
        // Values that came over the wire are JSON; this only guards against the unexpected.
        return `(not JSON: ${error instanceof Error ? error.message : String(error)})`;
      }
    })
    .join(" ");
}

/** An even number of hex digits as bytes, or null. */
export function parseHex(text: string): Buffer | null {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return null;
  return Buffer.from(digits, "hex");
}

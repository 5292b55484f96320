/**
 * Binary values in event and acknowledgement data, on the client side.
 *
 * Outgoing: the codec takes ArrayBuffer and its views as they are, but a Blob (or File) can only be
 * read asynchronously; packets holding one are converted to bytes first (see the Manager, which
 * keeps the packet order across that wait).
 *
 * Incoming: the decoder gives Uint8Array views; socket.io-client gives ArrayBuffer in browsers and
 * Buffer in Node, so decoded data is mapped through the platform's conversion.
 */

// The browser platform's conversion (platform.ts). Its one home is the protocol layer; importing it
// through this module keeps it beside the other binary handling in the bundle (smaller gzip).
export { toArrayBuffer } from "../protocol/array-buffer.js";

import { setOwn } from "../protocol/socketio/attachment-extraction.js";

/** Turns a received attachment into what listeners get (ArrayBuffer, or Buffer in Node). */
export type BinaryConversion = (bytes: Uint8Array) => unknown;

/** Nesting walked before giving up (the codec refuses deeper data anyway). */
const MAX_DEPTH = 1000;

type Container = unknown[] | Record<string, unknown>;

/**
 * Replaces, in place, every Uint8Array inside `data` by `convert(value)`. Only for data the decoder
 * produced (JSON.parse output plus attachments): it is nobody else's, and holds no cycles.
 */
export function convertReceivedBinary(data: unknown[], convert: BinaryConversion): void {
  const pending: Container[] = [data];
  while (pending.length > 0) {
    const container = pending.pop()!;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const value = container[i];
        if (value instanceof Uint8Array) container[i] = convert(value);
        else if (typeof value === "object" && value !== null) pending.push(value as Container);
      }
    } else {
      for (const key in container) {
        const value = container[key];
        if (value instanceof Uint8Array) {
          // setOwn: a "__proto__" key (an own property in JSON.parse output) stays a plain key.
          setOwn(container, key, convert(value));
        } else if (typeof value === "object" && value !== null) {
          pending.push(value as Container);
        }
      }
    }
  }
}

/**
 * Starts reading every Blob (or File) inside `data`, anywhere JSON.stringify would look; null when
 * there is none (the packet can go at once). Otherwise resolves to a copy of `data` with each Blob
 * replaced by its bytes (a Uint8Array), copying only the arrays and objects on the paths to Blobs;
 * `data` itself is not changed. Rejects when a Blob cannot be read.
 */
export function readBlobs(data: unknown[]): Promise<unknown[]> | null {
  const BlobClass = (globalThis as { Blob?: abstract new (...args: never[]) => Blob }).Blob;
  if (typeof BlobClass !== "function") return null;
  const reads: Promise<void>[] = [];
  const copy = withBlobsRead(data, BlobClass, reads, 0) as unknown[];
  return reads.length === 0 ? null : Promise.all(reads).then(() => copy);
}

/**
 * `value`, or a copy of it whose Blobs are filled in by `reads` and whose containers of Blobs are
 * such copies (one walk: the same value back when it holds no Blob, so nothing is allocated).
 */
function withBlobsRead(
  value: unknown,
  BlobClass: abstract new () => Blob,
  reads: Promise<void>[],
  depth: number,
): unknown {
  if (
    typeof value !== "object" ||
    value === null ||
    depth >= MAX_DEPTH ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer
  ) {
    return value;
  }
  const record = value as Record<string | number, unknown>;
  let copy: object | undefined;
  // Arrays by index (holes included, as JSON.stringify sees them), objects by own keys.
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(record)) {
    const item = record[key];
    const blob = item instanceof BlobClass;
    const replacement = blob ? item : withBlobsRead(item, BlobClass, reads, depth + 1);
    if (!blob && replacement === item) continue;
    copy ??= Array.isArray(value) ? (value.slice() as unknown[]) : { ...record };
    const target = copy;
    setOwn(target, key, replacement);
    if (blob) {
      reads.push(item.arrayBuffer().then((buffer) => setOwn(target, key, new Uint8Array(buffer))));
    }
  }
  return copy ?? value;
}

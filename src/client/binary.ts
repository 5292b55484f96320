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

/** Turns a received attachment into what listeners get (ArrayBuffer, or Buffer in Node). */
export type BinaryConversion = (bytes: Uint8Array) => unknown;

/** Nesting walked before giving up (the codec refuses deeper data anyway). */
const MAX_DEPTH = 1000;

type Container = unknown[] | Record<string, unknown>;

/** The ArrayBuffer holding exactly `bytes` (the view's own buffer when it spans all of it). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer;
  }
  const copy = new ArrayBuffer(byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

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
          // defineProperty: a "__proto__" key (an own property in JSON.parse output) stays a plain key.
          Object.defineProperty(container, key, {
            value: convert(value),
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else if (typeof value === "object" && value !== null) {
          pending.push(value as Container);
        }
      }
    }
  }
}

function blobClass(): (abstract new (...args: never[]) => Blob) | undefined {
  const BlobClass = (globalThis as { Blob?: abstract new (...args: never[]) => Blob }).Blob;
  return typeof BlobClass === "function" ? BlobClass : undefined;
}

/** True when `data` holds a Blob (or File) anywhere JSON.stringify would look. */
export function containsBlob(data: unknown): boolean {
  const BlobClass = blobClass();
  if (BlobClass === undefined) return false;
  return hasBlob(data, BlobClass, 0);
}

function hasBlob(value: unknown, BlobClass: abstract new () => Blob, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (value instanceof BlobClass) return true;
  if (depth >= MAX_DEPTH || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (hasBlob(value[i], BlobClass, depth + 1)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (Object.hasOwn(record, key) && hasBlob(record[key], BlobClass, depth + 1)) return true;
  }
  return false;
}

/**
 * A copy of `data` with every Blob replaced by its bytes (a Uint8Array), copying only the arrays
 * and objects on the paths to Blobs; `data` itself is not changed. Rejects when a Blob cannot be
 * read.
 */
export async function readBlobs(data: unknown[]): Promise<unknown[]> {
  const BlobClass = blobClass();
  if (BlobClass === undefined) return data;
  const reads: Promise<void>[] = [];
  const copy = replaceBlobs(data, BlobClass, reads, 0) as unknown[];
  await Promise.all(reads);
  return copy;
}

function replaceBlobs(
  value: unknown,
  BlobClass: abstract new () => Blob,
  reads: Promise<void>[],
  depth: number,
): unknown {
  // Blobs themselves are replaced by their container (below), which owns the slot to fill.
  if (!hasBlob(value, BlobClass, depth)) return value;
  if (Array.isArray(value)) {
    const copy = value.slice();
    for (let i = 0; i < copy.length; i++) {
      const item = copy[i];
      if (item instanceof BlobClass) {
        reads.push(
          item.arrayBuffer().then((buffer) => {
            copy[i] = new Uint8Array(buffer);
          }),
        );
      } else {
        copy[i] = replaceBlobs(item, BlobClass, reads, depth + 1);
      }
    }
    return copy;
  }
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    if (item instanceof BlobClass) {
      setOwn(copy, key, item);
      reads.push(
        item.arrayBuffer().then((buffer) => {
          setOwn(copy, key, new Uint8Array(buffer));
        }),
      );
    } else {
      setOwn(copy, key, replaceBlobs(item, BlobClass, reads, depth + 1));
    }
  }
  return copy;
}

/** Assignment, except that "__proto__" becomes an own property instead of changing the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * What the codecs accept as binary: an ArrayBuffer or any view on one (typed arrays, DataView,
 * and Node's Buffer, which is a Uint8Array subclass). On the wire and in decoded packets binary
 * is always a Uint8Array.
 */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/** True for ArrayBuffer and every ArrayBuffer view (typed arrays, DataView, Buffer). */
export function isBinaryData(value: unknown): value is BinaryData {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * A Uint8Array over the same memory as `data` (no copy). A Uint8Array, Buffer included, is
 * returned as is.
 */
export function toUint8Array(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

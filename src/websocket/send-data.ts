/**
 * What a WebSocket sends, as a frame's payload: the one place where the values `send`, `ping`,
 * `pong` and `prepareMessage` accept become bytes. Binary data is never copied (a view keeps
 * pointing at the caller's memory); text and Blobs are handed on as they are, since text is
 * encoded straight into the outgoing buffer when its frame is written and a Blob can only be read
 * asynchronously (the sender does that, keeping the call order).
 * @module
 */

/** What `send` accepts; other values are sent as their string conversion, as browsers do. */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob | readonly Uint8Array[];

const EMPTY_BUFFER = Buffer.alloc(0);

/**
 * The payload of a data frame for `send`: binary data as the bytes it spans, an array of chunks
 * (what binaryType "fragments" delivers) joined into one new Buffer, a string or a Blob as it is,
 * any other value its string conversion. Strings are text; everything else is binary.
 */
export function toMessagePayload(data: SendData): string | Uint8Array | Blob {
  if (typeof data === "string") return data;
  const bytes = binaryBytes(data);
  if (bytes !== null) return bytes;
  if (typeof Blob !== "undefined" && data instanceof Blob) return data;
  if (Array.isArray(data)) return Buffer.concat(data as readonly Uint8Array[]);
  return String(data);
}

/**
 * `data` as bytes now, for a control frame (`ping`, `pong`) or a prepared message: nothing is
 * empty, a string its UTF-8 bytes, binary data the bytes it spans, and any other value (a number,
 * say) the UTF-8 bytes of its string conversion.
 */
export function toPayloadBytes(data: SendData | number | undefined): Uint8Array {
  if (data === undefined) return EMPTY_BUFFER;
  if (typeof data === "string") return Buffer.from(data);
  return binaryBytes(data) ?? Buffer.from(String(data));
}

/**
 * The bytes binary data spans, without a copy: a Uint8Array (a Buffer stays a Buffer) as it is,
 * another view as a Uint8Array over the same range of the same memory, an ArrayBuffer or
 * SharedArrayBuffer whole; null for a value that is not binary data.
 */
function binaryBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer || isSharedArrayBuffer(data)) return new Uint8Array(data);
  return null;
}

function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer;
}

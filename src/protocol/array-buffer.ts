/**
 * Received binary data handed to listeners as an ArrayBuffer (the WHATWG `binaryType`
 * "arraybuffer", socket.io-client in browsers), for the server's WebSocket and the client alike.
 * @module
 */

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

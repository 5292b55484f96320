/**
 * Engine.IO protocol revision 3 (`EIO=3`, Socket.IO 1.x/2.x clients): one packet per WebSocket
 * frame. Unlike revision 4, a binary packet keeps its type: as a binary frame it is the type id
 * as one byte followed by the data (`04 01 02 03` is a message of bytes 01 02 03); as text it is
 * `"b" + <type digit> + base64(data)`.
 */
import { decodeBase64, encodeBase64 } from "../base64.js";
import { decodeTextPacket, encodeText } from "./packet.js";
import {
  type EnginePacket,
  type EnginePacketResult,
  EnginePacketType,
  TYPE_CHARS,
  typeFromByte,
  typeFromCharCode,
} from "./packet-types.js";

const B = 98; // "b"

/**
 * Encodes one packet for a revision 3 WebSocket frame: a string for a text frame, or, for a
 * binary message when `supportsBinary`, a new buffer holding the type byte and the data.
 */
export function encodePacketV3(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  return encodeFrameV3(packet.type, packet.data, supportsBinary);
}

/** {@link encodePacketV3} from the packet's fields (bytes are valid data only for a `message`). */
export function encodeFrameV3(
  type: EnginePacketType,
  data: string | Uint8Array | undefined,
  supportsBinary: boolean,
): string | Uint8Array {
  if (data === undefined || typeof data === "string" || !supportsBinary) {
    return encodeTextV3(type, data);
  }
  const out = new Uint8Array(data.length + 1);
  out[0] = type;
  out.set(data, 1);
  return out;
}

/** Encodes one packet as revision 3 text; binary data becomes `"b" + <type digit> + base64`. */
export function encodeTextPacketV3(packet: EnginePacket): string {
  return encodeTextV3(packet.type, packet.data);
}

/** {@link encodeTextPacketV3} from the packet's fields (bytes are valid data only for a `message`). */
export function encodeTextV3(
  type: EnginePacketType,
  data: string | Uint8Array | undefined,
): string {
  if (data === undefined || typeof data === "string") return encodeText(type, data);
  return `b${TYPE_CHARS[type]}${encodeBase64(data)}`;
}

/**
 * Decodes one revision 3 WebSocket frame's content. Binary input starts with the type byte; the
 * returned data is a view on the input, not a copy. Only `message` packets may carry binary data.
 */
export function decodePacketV3(data: string | Uint8Array | ArrayBuffer): EnginePacketResult {
  if (typeof data === "string") return decodeTextPacketV3(data);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length === 0) return { ok: false, reason: "empty packet" };
  const type = typeFromByte(bytes[0]);
  if (type === -1) return { ok: false, reason: "unknown packet type" };
  if (type !== EnginePacketType.Message) {
    return { ok: false, reason: "binary data on a packet other than message" };
  }
  return { ok: true, packet: { type, data: bytes.subarray(1) } };
}

/** Decodes revision 3 packet text: `<type digit>[<data>]` or `b<type digit><base64>`. */
export function decodeTextPacketV3(text: string): EnginePacketResult {
  if (text.length === 0 || text.charCodeAt(0) !== B) return decodeTextPacket(text);
  const type = typeFromCharCode(text.charCodeAt(1));
  if (type === -1) return { ok: false, reason: "unknown packet type" };
  if (type !== EnginePacketType.Message) {
    return { ok: false, reason: "binary data on a packet other than message" };
  }
  const bytes = decodeBase64(text, 2);
  if (bytes === null) return { ok: false, reason: "invalid base64 in binary packet" };
  return { ok: true, packet: { type, data: bytes } };
}

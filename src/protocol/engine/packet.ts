/**
 * Engine.IO protocol revision 4: one packet per WebSocket frame.
 *
 * Text packets are `<type digit>[<data>]`. A binary `message` travels as the raw bytes of a
 * binary frame with no type prefix; a peer without binary support gets it as text:
 * `"b" + base64(bytes)`.
 */
import { decodeBase64, encodeBase64 } from "../base64.js";
import {
  type EnginePacket,
  type EnginePacketResult,
  EnginePacketType,
  makePacket,
  TYPE_CHARS,
  typeFromCharCode,
} from "./packet-types.js";

const B = 98; // "b"

/**
 * Encodes one packet for a WebSocket frame. Returns a string (send as a text frame) or, for a
 * binary message when `supportsBinary`, the message bytes themselves (send as a binary frame;
 * no copy is made).
 */
export function encodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  const data = packet.data;
  if (supportsBinary && data !== undefined && typeof data !== "string") return data;
  return encodePacketAsText(packet);
}

/** Encodes one packet as text: binary data becomes `"b" + base64`. Used by polling payloads too. */
export function encodePacketAsText(packet: EnginePacket): string {
  const data = packet.data;
  if (data === undefined) return TYPE_CHARS[packet.type];
  if (typeof data === "string") return TYPE_CHARS[packet.type] + data;
  return `b${encodeBase64(data)}`;
}

/**
 * Decodes one WebSocket frame's content: a string from a text frame, bytes from a binary frame
 * (always a `message`; the returned data is the input view, not a copy). Malformed input gives
 * `{ ok: false }`, never an exception.
 */
export function decodePacket(data: string | Uint8Array | ArrayBuffer): EnginePacketResult {
  if (typeof data !== "string") {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return { ok: true, packet: { type: EnginePacketType.Message, data: bytes } };
  }
  return decodeTextPacket(data);
}

/** Decodes `<type digit>[<data>]` or `b<base64>`; shared by the WebSocket and polling decoders. */
export function decodeTextPacket(text: string): EnginePacketResult {
  if (text.length === 0) return { ok: false, reason: "empty packet" };
  const first = text.charCodeAt(0);
  if (first === B) {
    const bytes = decodeBase64(text, 1);
    if (bytes === null) return { ok: false, reason: "invalid base64 in binary packet" };
    return { ok: true, packet: { type: EnginePacketType.Message, data: bytes } };
  }
  const type = typeFromCharCode(first);
  if (type === -1) return { ok: false, reason: "unknown packet type" };
  return { ok: true, packet: makePacket(type, text.length > 1 ? text.slice(1) : undefined) };
}

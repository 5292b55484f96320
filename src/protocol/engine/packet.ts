/**
 * Engine.IO protocol revision 4: one packet per WebSocket frame.
 *
 * Text packets are `<type digit>[<data>]`. A binary `message` travels as the raw bytes of a
 * binary frame with no type prefix; a peer without binary support gets it as text:
 * `"b" + base64(bytes)`.
 *
 * Each encoder comes in two forms: one taking a packet, and one taking its fields (type and
 * data), for the server's write paths, which keep packets as fields and must not allocate an
 * object per packet to encode it.
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

// Literals rather than derived from TYPE_CHARS: a bundler drops them where unused.
/** What a text `message` packet starts with, "4": the packet is this, then its data. */
export const MESSAGE_PREFIX = "4";
/** {@link MESSAGE_PREFIX} as its UTF-8 byte, for packets read or written as bytes. */
export const MESSAGE_PREFIX_BYTE = 0x34;
/** Bytes {@link MESSAGE_PREFIX} takes before a text message's data in UTF-8. */
export const MESSAGE_PREFIX_LENGTH = 1;

/**
 * Encodes one packet for a WebSocket frame. Returns a string (send as a text frame) or, for a
 * binary message when `supportsBinary`, the message bytes themselves (send as a binary frame;
 * no copy is made).
 */
export function encodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  return encodeFrame(packet.type, packet.data, supportsBinary);
}

/**
 * {@link encodePacket} from the packet's fields. Bytes are valid data only for a `message`
 * (their frame carries no type).
 */
export function encodeFrame(
  type: EnginePacketType,
  data: string | Uint8Array | undefined,
  supportsBinary: boolean,
): string | Uint8Array {
  // Of string, bytes and undefined, only bytes are an object.
  return supportsBinary && typeof data === "object" ? data : encodeText(type, data);
}

/** Encodes one packet as text: binary data becomes `"b" + base64`. Used by polling payloads too. */
export function encodePacketAsText(packet: EnginePacket): string {
  return encodeText(packet.type, packet.data);
}

/**
 * {@link encodePacketAsText} from the packet's fields. Bytes are valid data only for a
 * `message` (their text form carries no type).
 */
export function encodeText(type: EnginePacketType, data: string | Uint8Array | undefined): string {
  if (data === undefined) return TYPE_CHARS[type];
  if (typeof data === "string") return TYPE_CHARS[type] + data;
  return `b${encodeBase64(data)}`;
}

/**
 * Makes `bytes` a text `message` packet in UTF-8 whose data its writer put after the first
 * {@link MESSAGE_PREFIX_LENGTH} bytes, by writing the prefix in front: the frame's payload is then
 * `bytes` as they are, with no string built and no copy.
 */
export function writeMessagePrefix(bytes: Uint8Array): void {
  bytes[0] = MESSAGE_PREFIX_BYTE;
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

/**
 * Engine.IO protocol revision 3 (`EIO=3`): HTTP long-polling payloads, in two framings.
 *
 * Text framing, `<length>:<packet>` repeated, where `length` is decimal and counts the packet's
 * UTF-16 code units (JavaScript string length, what the reference implementation measures: "€" is
 * 1, "😀" is 2), not bytes. Binary packets are `"b" + <type digit> + base64(data)` and their length
 * covers all of that. An empty payload is `0:`.
 *
 * Binary framing (XHR2 clients, body sent as application/octet-stream), used only when the client
 * supports binary and a packet carries binary: per packet one byte 0 (text) or 1 (binary), the
 * length as one byte per decimal digit (values 0-9, not ASCII), a 255 byte, then the packet.
 * A text packet is its UTF-8 bytes and its length counts bytes; a binary packet is the type byte
 * followed by the data, and its length counts both. Example from the reference implementation:
 * [message "hello", message <01 02 03>] is `00 06 ff 34 68 65 6c 6c 6f 01 04 ff 04 01 02 03`.
 */
import { type EnginePacket, type EnginePayloadResult, isBinaryPacket } from "./packet-types.js";
import { decodePacketV3, decodeTextPacketV3, encodeTextPacketV3 } from "./v3-packet.js";

const COLON = 58;
const SEPARATOR_BYTE = 255;
const TEXT_MARKER = 0;
const BINARY_MARKER = 1;
/** Longer length fields are refused: 16 digits already exceed any body a server accepts. */
const MAX_LENGTH_DIGITS = 16;

let utf8Encoder: TextEncoder | undefined;
let utf8Decoder: TextDecoder | undefined;

/**
 * Encodes packets for one revision 3 polling body: binary framing (a Uint8Array) when
 * `supportsBinary` (the client did not ask for `b64=1`) and some packet carries binary data,
 * text framing otherwise.
 */
export function encodePayloadV3(
  packets: readonly EnginePacket[],
  supportsBinary: boolean,
): string | Uint8Array {
  if (supportsBinary && packets.some(isBinaryPacket)) return encodeBinaryPayloadV3(packets);
  if (packets.length === 0) return "0:";
  let out = "";
  for (const packet of packets) {
    const text = encodeTextPacketV3(packet);
    out += `${text.length}:${text}`;
  }
  return out;
}

function encodeBinaryPayloadV3(packets: readonly EnginePacket[]): Uint8Array {
  utf8Encoder ??= new TextEncoder();
  // Text packets are UTF-8 encoded once, up front, to size the output.
  const contents: Uint8Array[] = [];
  let total = 0;
  for (const packet of packets) {
    const data = packet.data;
    const content =
      data === undefined || typeof data === "string"
        ? utf8Encoder.encode(encodeTextPacketV3(packet))
        : data;
    contents.push(content);
    const length = framedLength(packet, content);
    total += 2 + String(length).length + length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (let p = 0; p < packets.length; p++) {
    const packet = packets[p];
    const content = contents[p];
    const binary = isBinaryPacket(packet);
    const digits = String(framedLength(packet, content));
    out[o++] = binary ? BINARY_MARKER : TEXT_MARKER;
    for (let d = 0; d < digits.length; d++) out[o++] = digits.charCodeAt(d) - 48;
    out[o++] = SEPARATOR_BYTE;
    if (binary) out[o++] = packet.type;
    out.set(content, o);
    o += content.length;
  }
  return out;
}

/** Bytes a packet occupies after its header: binary packets gain their type byte. */
function framedLength(packet: EnginePacket, content: Uint8Array): number {
  return isBinaryPacket(packet) ? content.length + 1 : content.length;
}

/**
 * Decodes a revision 3 polling body: a string in text framing, bytes in binary framing.
 * `maxPayload` (optional) bounds the body length (code units for a string, bytes otherwise).
 * Any fault (bad length field, truncated packet, malformed packet, invalid UTF-8) makes the whole
 * payload an error.
 */
export function decodePayloadV3(
  payload: string | Uint8Array,
  maxPayload?: number,
): EnginePayloadResult {
  if (maxPayload !== undefined && payload.length > maxPayload) {
    return { ok: false, reason: "payload too large" };
  }
  if (payload.length === 0) return { ok: false, reason: "empty payload" };
  return typeof payload === "string" ? decodeTextPayload(payload) : decodeBinaryPayload(payload);
}

function decodeTextPayload(payload: string): EnginePayloadResult {
  const packets: EnginePacket[] = [];
  const end = payload.length;
  let i = 0;
  while (i < end) {
    let length = 0;
    let digits = 0;
    for (;;) {
      if (i >= end) return { ok: false, reason: "length without ':'" };
      const code = payload.charCodeAt(i++);
      if (code === COLON) break;
      if (code < 48 || code > 57 || ++digits > MAX_LENGTH_DIGITS) {
        return { ok: false, reason: "invalid length" };
      }
      length = length * 10 + (code - 48);
    }
    if (digits === 0) return { ok: false, reason: "invalid length" };
    if (length > end - i) return { ok: false, reason: "packet shorter than its length" };
    // A zero length carries no packet: "0:" is how an empty payload is written.
    if (length > 0) {
      const decoded = decodeTextPacketV3(payload.slice(i, i + length));
      if (!decoded.ok) return { ok: false, reason: `packet ${packets.length}: ${decoded.reason}` };
      packets.push(decoded.packet);
    }
    i += length;
  }
  return { ok: true, packets };
}

function decodeBinaryPayload(payload: Uint8Array): EnginePayloadResult {
  const packets: EnginePacket[] = [];
  const end = payload.length;
  let i = 0;
  while (i < end) {
    const marker = payload[i++];
    if (marker !== TEXT_MARKER && marker !== BINARY_MARKER) {
      return { ok: false, reason: "invalid packet marker" };
    }
    let length = 0;
    let digits = 0;
    for (;;) {
      if (i >= end) return { ok: false, reason: "length without separator" };
      const digit = payload[i++];
      if (digit === SEPARATOR_BYTE) break;
      if (digit > 9 || ++digits > MAX_LENGTH_DIGITS) return { ok: false, reason: "invalid length" };
      length = length * 10 + digit;
    }
    if (digits === 0) return { ok: false, reason: "invalid length" };
    if (length > end - i) return { ok: false, reason: "packet shorter than its length" };
    const content = payload.subarray(i, i + length);
    i += length;
    let decoded: ReturnType<typeof decodePacketV3>;
    if (marker === BINARY_MARKER) {
      decoded = decodePacketV3(content);
    } else {
      const text = decodeUtf8(content);
      if (text === null) return { ok: false, reason: `packet ${packets.length}: invalid UTF-8` };
      decoded = decodeTextPacketV3(text);
    }
    if (!decoded.ok) return { ok: false, reason: `packet ${packets.length}: ${decoded.reason}` };
    packets.push(decoded.packet);
  }
  return { ok: true, packets };
}

function decodeUtf8(bytes: Uint8Array): string | null {
  // ignoreBOM keeps a leading U+FEFF as data instead of silently dropping it.
  utf8Decoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

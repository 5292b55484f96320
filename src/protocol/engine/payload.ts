/**
 * Engine.IO protocol revision 4: HTTP long-polling payloads. Packets are joined by the record
 * separator "\x1e"; binary messages are always base64 text with a "b" prefix, so a payload is
 * always a string.
 *
 * The separator is not escaped (the protocol has no escape), so a text packet whose data contains
 * "\x1e" cannot be carried in a payload. Socket.IO packets never contain it (JSON.stringify writes
 * control characters as \u escapes); raw Engine.IO text messages must avoid it.
 */
import { decodeTextPacket, encodeText } from "./packet.js";
import type { EnginePacket, EnginePayloadResult } from "./packet-types.js";

/** The record separator between packets of a revision 4 payload. */
export const PAYLOAD_SEPARATOR = "\x1e";

/** Encodes packets for one HTTP long-polling response or request body. */
export function encodePayload(packets: readonly EnginePacket[]): string {
  return packets.map((packet) => encodeText(packet.type, packet.data)).join(PAYLOAD_SEPARATOR);
}

/**
 * Decodes an HTTP long-polling body. `maxPayload` (optional) bounds the body length in UTF-16
 * code units; a longer body is refused before any parsing. Any malformed packet makes the whole
 * payload an error, as the session is closed on it anyway.
 */
export function decodePayload(payload: string, maxPayload?: number): EnginePayloadResult {
  if (maxPayload !== undefined && payload.length > maxPayload) {
    return { ok: false, reason: "payload too large" };
  }
  const packets: EnginePacket[] = [];
  let start = 0;
  for (;;) {
    const end = payload.indexOf(PAYLOAD_SEPARATOR, start);
    const text = end === -1 ? payload.slice(start) : payload.slice(start, end);
    const decoded = decodeTextPacket(text);
    if (!decoded.ok) return { ok: false, reason: `packet ${packets.length}: ${decoded.reason}` };
    packets.push(decoded.packet);
    if (end === -1) return { ok: true, packets };
    start = end + 1;
  }
}

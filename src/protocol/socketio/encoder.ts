/**
 * Socket.IO protocol revision 5 encoder (the built-in parser's format):
 *
 *   <type>[<attachments>-][<nsp>,][<id>][<JSON data with placeholders>]  + one binary part per attachment
 *
 * The namespace is left out when it is "/". Encode once and send the parts to many sockets:
 * nothing here depends on the receiver.
 */
import { TYPE_CHARS } from "../engine/packet-types.js";
import { extract, MAX_DEPTH, mayHoldBinary, NestingTooDeepError } from "./attachment-extraction.js";
import { stringifyWithSafeStrings } from "./json-safe-strings.js";
import { type OutgoingSocketPacket, SocketPacketType } from "./packet-types.js";
import { dataFault, idFault, namespaceFault } from "./validation.js";

/** The text part first (the data of an Engine.IO message), then each attachment in order. */
export type EncodedSocketPacket = [string, ...Uint8Array[]];

/** Result of {@link encode}. */
export type SocketEncodeResult =
  | { ok: true; parts: EncodedSocketPacket }
  | { ok: false; reason: string };

/**
 * Encodes a packet. Never throws and never mutates `packet` or its data; binary values found in
 * event/ack data become attachments (views on the caller's memory, not copies, so the caller must
 * not change them until they are sent). Errors, as values: an invalid namespace, id or data shape
 * (the rules the decoder applies), data JSON cannot represent (BigInt, a circular structure, a
 * throwing toJSON or getter), or event/ack data nested deeper than 1000 levels.
 *
 * Data is serialized like JSON.stringify: toJSON methods apply (Date gives its ISO string),
 * undefined and functions are dropped from objects and become null in arrays. Binary values
 * outside event and ack data are not extracted (the format has no attachments there).
 */
export function encode(packet: OutgoingSocketPacket): SocketEncodeResult {
  try {
    return encodeUnguarded(packet);
  } catch (error) {
    // Getters, proxies and toJSON methods in caller data run user code that may throw.
    if (error instanceof NestingTooDeepError) {
      return { ok: false, reason: `data nested deeper than ${MAX_DEPTH} levels or circular` };
    }
    return { ok: false, reason: `data cannot be serialized: ${describe(error)}` };
  }
}

function encodeUnguarded(packet: OutgoingSocketPacket): SocketEncodeResult {
  const { type, nsp, data, id } = packet;
  const fault = namespaceFault(nsp) ?? idFault(type, id) ?? dataFault(type, data);
  if (fault !== null) return { ok: false, reason: fault };

  const isEvent = type === SocketPacketType.Event || type === SocketPacketType.BinaryEvent;
  const isAck = type === SocketPacketType.Ack || type === SocketPacketType.BinaryAck;
  let body = data;
  let attachments: Uint8Array[] | undefined;
  if ((isEvent || isAck) && mayHoldBinary(data, 0)) {
    attachments = [];
    body = extract(data, "", attachments, 0);
  }
  // JSON.stringify gives undefined when a toJSON method returns undefined: no data is written then.
  let json: string | undefined;
  if (body !== undefined) {
    // Strings the parser vouched for (an echo of what a client sent) are not scanned again.
    if ((isEvent || isAck) && Array.isArray(body)) json = stringifyWithSafeStrings(body);
    json ??= JSON.stringify(body);
  }

  const binary = attachments !== undefined && attachments.length > 0;
  let wireType: SocketPacketType = type;
  if (isEvent) wireType = binary ? SocketPacketType.BinaryEvent : SocketPacketType.Event;
  else if (isAck) wireType = binary ? SocketPacketType.BinaryAck : SocketPacketType.Ack;

  let text = TYPE_CHARS[wireType];
  if (binary) text += `${attachments!.length}-`;
  if (nsp !== "/") text += `${nsp},`;
  if (id !== undefined) text += id;
  if (json !== undefined) text += json;

  const parts: EncodedSocketPacket = [text];
  if (binary) for (const attachment of attachments!) parts.push(attachment);
  return { ok: true, parts };
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "the thrown value cannot be described";
  }
}

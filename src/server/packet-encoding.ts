/**
 * Encoding Socket.IO packets for sending: once per packet, whatever the number of recipients.
 */
import { PreparedEngineMessage } from "../engine/prepared-message.js";
import {
  type EncodedSocketPacket,
  encode,
  type OutgoingSocketPacket,
} from "../protocol/socketio/index.js";

/**
 * Encodes `packet` (text part, then binary attachments).
 *
 * @throws TypeError when the data cannot be encoded (circular, BigInt, a throwing toJSON, nesting
 * deeper than 1000 levels): a programming error of the emitter, reported where it emits, as
 * socket.io's JSON.stringify would.
 */
export function encodeOrThrow(packet: OutgoingSocketPacket): EncodedSocketPacket {
  const result = encode(packet);
  if (!result.ok) throw new TypeError(`cannot encode the Socket.IO packet: ${result.reason}`);
  return result.parts;
}

/** Encodes Socket.IO packets for adapters that write them to clients themselves. */
export interface PacketEncoder {
  /**
   * The packet's text part, then its binary attachments.
   * @throws TypeError when the data cannot be encoded.
   */
  encode(packet: OutgoingSocketPacket): EncodedSocketPacket;
}

/** The server's encoder (`io.encoder`): the built-in parser's format. */
export const PACKET_ENCODER: PacketEncoder = Object.freeze({ encode: encodeOrThrow });

/** Wraps each encoded part so that its wire forms are built once for all recipients. */
export function prepareParts(parts: EncodedSocketPacket): PreparedEngineMessage[] {
  const prepared = new Array<PreparedEngineMessage>(parts.length);
  for (let i = 0; i < parts.length; i++) prepared[i] = new PreparedEngineMessage(parts[i]!);
  return prepared;
}

/** Approximate memory held by an encoded packet (text length plus attachment bytes). */
export function encodedSize(parts: EncodedSocketPacket): number {
  let size = parts[0].length;
  for (let i = 1; i < parts.length; i++) size += (parts[i] as Uint8Array).byteLength;
  return size;
}

export {
  DEFAULT_MAX_ATTACHMENTS,
  Decoder,
  type DecoderOptions,
  type SocketDecodeResult,
} from "./decoder.js";
export { type EncodedSocketPacket, encode, type SocketEncodeResult } from "./encoder.js";
export {
  type AckPacket,
  type ConnectErrorPacket,
  type ConnectPacket,
  type DisconnectPacket,
  type EventPacket,
  isReservedEventName,
  type OutgoingSocketPacket,
  RESERVED_EVENTS,
  type SocketPacket,
  SocketPacketType,
} from "./packet-types.js";

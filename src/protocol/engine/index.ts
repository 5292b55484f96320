export { decodeBase64, encodeBase64 } from "../base64.js";
export { type BinaryData, isBinaryData, toUint8Array } from "./binary-data.js";
export {
  type EngineHandshake,
  encodeOpenPacket,
  type HandshakeResult,
  parseHandshake,
} from "./handshake.js";
export {
  decodePacket,
  decodeTextPacket,
  encodeFrame,
  encodePacket,
  encodePacketAsText,
  encodeText,
  MESSAGE_PREFIX,
  MESSAGE_PREFIX_BYTE,
  MESSAGE_PREFIX_LENGTH,
  writeMessagePrefix,
} from "./packet.js";
export {
  type EnginePacket,
  type EnginePacketResult,
  EnginePacketType,
  type EnginePayloadResult,
  isBinaryPacket,
} from "./packet-types.js";
export { decodePayload, encodePayload, PAYLOAD_SEPARATOR } from "./payload.js";
export {
  decodePacketV3,
  decodeTextPacketV3,
  encodeFrameV3,
  encodePacketV3,
  encodeTextPacketV3,
  encodeTextV3,
} from "./v3-packet.js";
export { decodePayloadV3, encodePayloadV3 } from "./v3-payload.js";

/**
 * The pure WebSocket protocol core (RFC 6455, RFC 7692): no Node built-ins, no I/O.
 * @module
 */

export { decodeBase64, encodeBase64 } from "../base64.js";
export {
  CloseCode,
  type ClosePayload,
  encodeClosePayload,
  isValidApplicationCloseCode,
  isValidWireCloseCode,
  parseClosePayload,
} from "./close-codes.js";
export { MAX_CONTROL_PAYLOAD, Opcode, type Role, WEBSOCKET_GUID } from "./constants.js";
export {
  type ExtensionOffer,
  type ExtensionParam,
  formatExtensions,
  parseExtensions,
} from "./extensions.js";
export { FrameParser, type FrameParserEvents, type FrameParserOptions } from "./frame-parser.js";
export {
  encodeFrame,
  encodeFrameHeader,
  MaskKeyPool,
  maskInPlace,
  maskRange,
  maskRangeWithKey,
} from "./frame-serializer.js";
export {
  checkNegotiation,
  checkServerResponse,
  checkUpgradeRequest,
  computeAcceptKey,
  formatAcceptResponse,
  formatHttpError,
  generateClientKey,
  type Headers,
  parseSubprotocols,
  type ServerResponseCheck,
  type UpgradeCheck,
} from "./handshake.js";
export {
  acceptDeflateResponse,
  type DeflateNegotiationOptions,
  type DeflateParams,
  formatDeflateOffer,
  isValidWindowBits,
  negotiateDeflateAsServer,
  PERMESSAGE_DEFLATE,
} from "./permessage-deflate-params.js";
export { sha1 } from "./sha1.js";
export { isValidUtf8, Utf8Validator } from "./utf8.js";

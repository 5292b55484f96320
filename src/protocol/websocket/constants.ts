/**
 * Wire constants of RFC 6455 shared by the parser, the serializer and the handshake.
 * @module
 */

/** Frame opcodes defined by RFC 6455 section 5.2 (others are reserved and fail the connection). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** One of the defined opcode values. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** The GUID appended to `Sec-WebSocket-Key` before hashing (RFC 6455 section 1.3). */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Control frames carry at most 125 payload bytes (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Which end of the connection this code runs as; decides the masking rules. */
export type Role = "server" | "client";

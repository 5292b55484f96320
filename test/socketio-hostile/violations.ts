/**
 * Malformed packets, each sent by a raw client after a proper handshake and "/" connect, with the
 * server socket's disconnect reasons that may follow (the connection must close).
 */

/**
 * The server socket's disconnect reason for a Socket.IO-level violation: socket.io closes the
 * Engine.IO connection ("forced close"); its documentation names the reason "parse error".
 */
export const SOCKET_IO_VIOLATION = ["forced close", "parse error"];
/** For an Engine.IO-level violation, both agree. */
export const ENGINE_IO_VIOLATION = ["parse error"];

/** An attachment placeholder as the Socket.IO encoder writes it. */
export const placeholder = (num: unknown) => ({ _placeholder: true, num });
/** A BINARY_EVENT text announcing `count` attachments, whose one placeholder says `num`. */
export const binaryEvent = (count: string, num: number) =>
  `45${count}-${JSON.stringify(["upload", placeholder(num)])}`;

/** Each must close the connection, with the server answering nothing. */
export const violations: Array<{
  name: string;
  frames: Array<string | Buffer>;
  reasons: string[];
}> = [
  { name: "an unknown packet type", frames: ["49"], reasons: SOCKET_IO_VIOLATION },
  { name: "a non-digit packet type", frames: ["4x"], reasons: SOCKET_IO_VIOLATION },
  { name: "bad JSON", frames: ["42["], reasons: SOCKET_IO_VIOLATION },
  { name: "truncated JSON", frames: ['42["a"'], reasons: SOCKET_IO_VIOLATION },
  {
    name: "an EVENT whose payload is an object",
    frames: ['42{"a":1}'],
    reasons: SOCKET_IO_VIOLATION,
  },
  { name: "an EVENT with no name", frames: ["42[]"], reasons: SOCKET_IO_VIOLATION },
  { name: "an EVENT named null", frames: ['42[null,"x"]'], reasons: SOCKET_IO_VIOLATION },
  {
    name: "a CONNECT whose auth is a string",
    frames: ['40/admin,"token"'],
    reasons: SOCKET_IO_VIOLATION,
  },
  { name: "a CONNECT_ERROR sent by a client", frames: ["44"], reasons: SOCKET_IO_VIOLATION },
  {
    name: "attachment count lies: text arrives where the attachment should",
    frames: [binaryEvent("1", 0), '42["echo"]'],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "attachment count lies: the placeholder points past the attachments",
    frames: [binaryEvent("1", 5), Buffer.of(1, 2, 3)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "attachment count zero",
    frames: [binaryEvent("0", 0)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a huge attachment count",
    frames: [binaryEvent("999999999999", 0)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "more attachments than the decoder allows (11 > 10)",
    frames: [binaryEvent("11", 0)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a binary message with no binary packet pending",
    frames: [Buffer.of(0xde, 0xad)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "an EVENT named with a reserved name (disconnect)",
    frames: ['42["disconnect","x"]'],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a CONNECT to a namespace without a leading slash",
    frames: ["40admin,"],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a placeholder whose num is a string",
    frames: [`451-${JSON.stringify(["upload", placeholder("0")])}`, Buffer.of(1)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a placeholder whose num is negative",
    frames: [binaryEvent("1", -1), Buffer.of(1)],
    reasons: SOCKET_IO_VIOLATION,
  },
  {
    name: "a placeholder whose num is __proto__",
    frames: [`451-${JSON.stringify(["upload", placeholder("__proto__")])}`, Buffer.of(1)],
    reasons: SOCKET_IO_VIOLATION,
  },
  { name: "an unknown Engine.IO packet type", frames: ["9"], reasons: ENGINE_IO_VIOLATION },
  { name: "an empty Engine.IO packet", frames: [""], reasons: ENGINE_IO_VIOLATION },
];

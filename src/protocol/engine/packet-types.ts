/**
 * Engine.IO packet types and the packet shape shared by protocol revisions 3 and 4.
 */

/** Engine.IO packet type ids (the first character of an encoded packet). */
export const EnginePacketType = {
  Open: 0,
  Close: 1,
  Ping: 2,
  Pong: 3,
  Message: 4,
  Upgrade: 5,
  Noop: 6,
} as const;

/** One of the seven Engine.IO packet type ids. */
export type EnginePacketType = (typeof EnginePacketType)[keyof typeof EnginePacketType];

/**
 * An Engine.IO packet. `data` is text, or bytes for a binary `message` (the only packet type
 * that carries binary on the wire). `undefined` data encodes as the bare type digit.
 */
export type EnginePacket =
  | { type: typeof EnginePacketType.Message; data?: string | Uint8Array }
  | { type: Exclude<EnginePacketType, typeof EnginePacketType.Message>; data?: string };

/** Result of decoding an encoded packet: the packet, or why the input is not one. */
export type EnginePacketResult = { ok: true; packet: EnginePacket } | { ok: false; reason: string };

/** Result of decoding an HTTP long-polling payload: every packet in order, or the first fault. */
export type EnginePayloadResult =
  | { ok: true; packets: EnginePacket[] }
  | { ok: false; reason: string };

/** "0".."6", indexed by type id, so encoders do not convert numbers on each packet. */
export const TYPE_CHARS: readonly string[] = ["0", "1", "2", "3", "4", "5", "6"];

/** The type id written as character code `code` ("0".."6"), or -1. */
export function typeFromCharCode(code: number): EnginePacketType | -1 {
  const type = code - 48;
  return type >= 0 && type <= 6 ? (type as EnginePacketType) : -1;
}

/** The type id stored as byte `byte` (EIO=3 binary packets), or -1. */
export function typeFromByte(byte: number): EnginePacketType | -1 {
  return byte <= 6 ? (byte as EnginePacketType) : -1;
}

/** Builds a decoded packet. Callers pass bytes only with `Message`, the one type that carries them. */
export function makePacket(
  type: EnginePacketType,
  data: string | Uint8Array | undefined,
): EnginePacket {
  return { type, data } as EnginePacket;
}

/** True when the packet carries bytes rather than text. */
export function isBinaryPacket(packet: EnginePacket): boolean {
  return packet.data !== undefined && typeof packet.data !== "string";
}

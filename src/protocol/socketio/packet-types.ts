/**
 * Socket.IO protocol revision 5 packet types and shapes. Each Socket.IO packet travels as the data
 * of one Engine.IO `message` packet (its text part), followed by one Engine.IO binary message per
 * attachment.
 */

/** Socket.IO packet type ids (the first character of an encoded packet). */
export const SocketPacketType = {
  Connect: 0,
  Disconnect: 1,
  Event: 2,
  Ack: 3,
  ConnectError: 4,
  BinaryEvent: 5,
  BinaryAck: 6,
} as const;

/** One of the seven Socket.IO packet type ids. */
export type SocketPacketType = (typeof SocketPacketType)[keyof typeof SocketPacketType];

/**
 * A packet to encode. The wire type of an event or acknowledgement is chosen from its data:
 * `Event`/`BinaryEvent` are written as BINARY_EVENT when the data holds binary values, EVENT
 * otherwise (likewise for acks), so callers may always pass `Event` and `Ack`.
 */
export interface OutgoingSocketPacket {
  type: SocketPacketType;
  /** Namespace, starting with "/" and without ","; "/" is left out on the wire. */
  nsp: string;
  /**
   * Connect: an object or undefined. Disconnect: undefined. Event: a non-empty array, the event
   * name first. Ack: an array. ConnectError: an object or a string. Binary values (ArrayBuffer and
   * its views, Buffer included) may sit anywhere inside event and ack data.
   */
  data?: unknown;
  /** Acknowledgement id (a non-negative safe integer): asked for on events, required on acks. */
  id?: number;
}

/** A decoded CONNECT packet: `data` is the client's auth object, or the server's `{ sid }`. */
export interface ConnectPacket {
  type: typeof SocketPacketType.Connect;
  nsp: string;
  data: Record<string, unknown> | undefined;
  id: undefined;
}

/** A decoded DISCONNECT packet. */
export interface DisconnectPacket {
  type: typeof SocketPacketType.Disconnect;
  nsp: string;
  data: undefined;
  id: undefined;
}

/**
 * A decoded event (EVENT or BINARY_EVENT; binary attachments are already back in place, as
 * Uint8Array). `data[0]` is the event name (the reference implementation also allows a number).
 */
export interface EventPacket {
  type: typeof SocketPacketType.Event;
  nsp: string;
  data: [string | number, ...unknown[]];
  id: number | undefined;
}

/** A decoded acknowledgement (ACK or BINARY_ACK, attachments back in place). */
export interface AckPacket {
  type: typeof SocketPacketType.Ack;
  nsp: string;
  data: unknown[];
  id: number;
}

/** A decoded CONNECT_ERROR packet: `{ message, data? }` from current servers, a string from old ones. */
export interface ConnectErrorPacket {
  type: typeof SocketPacketType.ConnectError;
  nsp: string;
  data: string | Record<string, unknown>;
  id: undefined;
}

/** A complete decoded packet. Binary packets come out as `Event`/`Ack`. */
export type SocketPacket =
  | ConnectPacket
  | DisconnectPacket
  | EventPacket
  | AckPacket
  | ConnectErrorPacket;

/**
 * Event names with a meaning of their own on either side; applications must not emit them, and
 * the decoder refuses events named so.
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/** Lengths of the reserved names, shortest and longest. */
const SHORTEST_RESERVED = 7;
const LONGEST_RESERVED = 14;

/** True when `name` is one of {@link RESERVED_EVENTS}. */
export function isReservedEventName(name: unknown): boolean {
  // Every incoming event asks: most names are told apart by their length, without hashing.
  return (
    typeof name === "string" &&
    name.length >= SHORTEST_RESERVED &&
    name.length <= LONGEST_RESERVED &&
    RESERVED_EVENTS.has(name)
  );
}

/**
 * The rules a Socket.IO packet's namespace, id and data must follow, shared by the encoder
 * (refusing to write what a peer would reject) and the decoder (refusing what a peer sent).
 * Each check returns the reason a value is invalid, or null.
 */
import { isReservedEventName, SocketPacketType } from "./packet-types.js";

const SLASH = 47;

/** A namespace starts with "/" and has no "," (the built-in parser ends the namespace at one). */
export function namespaceFault(nsp: unknown): string | null {
  if (typeof nsp !== "string" || nsp.charCodeAt(0) !== SLASH) {
    return "namespace must be a string starting with /";
  }
  if (nsp.includes(",")) return "namespace must not contain ,";
  return null;
}

/** Ids are non-negative safe integers; acks need one; connect, disconnect, connect_error have none. */
export function idFault(type: SocketPacketType, id: unknown): string | null {
  if (id === undefined) {
    const isAck = type === SocketPacketType.Ack || type === SocketPacketType.BinaryAck;
    return isAck ? "ack packet without an id" : null;
  }
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    return "id must be a non-negative integer";
  }
  if (
    type === SocketPacketType.Connect ||
    type === SocketPacketType.Disconnect ||
    type === SocketPacketType.ConnectError
  ) {
    return "this packet type carries no id";
  }
  return null;
}

/** The data rules of the protocol document and the reference parser, per packet type. */
export function dataFault(type: SocketPacketType, data: unknown): string | null {
  switch (type) {
    case SocketPacketType.Connect:
      return data === undefined || isPlainObject(data) ? null : "connect data must be an object";
    case SocketPacketType.Disconnect:
      return data === undefined ? null : "disconnect packet carries no data";
    case SocketPacketType.Event:
    case SocketPacketType.BinaryEvent: {
      if (!Array.isArray(data) || data.length === 0) {
        return "event data must be a non-empty array";
      }
      const name: unknown = data[0];
      if (typeof name !== "string" && typeof name !== "number") {
        return "event name must be a string or a number";
      }
      return isReservedEventName(name) ? "reserved event name" : null;
    }
    case SocketPacketType.Ack:
    case SocketPacketType.BinaryAck:
      return Array.isArray(data) ? null : "ack data must be an array";
    case SocketPacketType.ConnectError:
      return typeof data === "string" || isPlainObject(data)
        ? null
        : "connect_error data must be an object or a string";
    default:
      return "unknown packet type";
  }
}

/** An object that is not an array, Date, Map, etc. (the reference parser's test). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/**
 * The JSON data of the Engine.IO `open` packet, sent by the server first on every new session.
 */
import { EnginePacketType, TYPE_CHARS } from "./packet-types.js";

/** Handshake data carried by the `open` packet. */
export interface EngineHandshake {
  /** Session id; the client sends it back as the `sid` query parameter. */
  sid: string;
  /** Transports the client may upgrade to (e.g. `["websocket"]`; empty on a WebSocket session). */
  upgrades: string[];
  /** Milliseconds between the server's pings (revision 4; the client's pings in revision 3). */
  pingInterval: number;
  /** Milliseconds to wait for the answer to a ping before the session is considered closed. */
  pingTimeout: number;
  /**
   * Largest HTTP long-polling body, in bytes, the server accepts; clients use it to batch packets.
   * Revision 4 servers send it; revision 3 servers did not (it is `undefined` when parsed from one).
   */
  maxPayload?: number;
}

/** Result of parsing the data of an `open` packet. */
export type HandshakeResult =
  | { ok: true; handshake: EngineHandshake }
  | { ok: false; reason: string };

/**
 * The `open` packet text: `0{"sid":...,"upgrades":[...],"pingInterval":...,"pingTimeout":...,
 * "maxPayload":...}`, keys in the order the reference server writes them. `maxPayload` is left out
 * when undefined.
 */
export function encodeOpenPacket(handshake: EngineHandshake): string {
  const body: EngineHandshake = {
    sid: handshake.sid,
    upgrades: handshake.upgrades,
    pingInterval: handshake.pingInterval,
    pingTimeout: handshake.pingTimeout,
  };
  if (handshake.maxPayload !== undefined) body.maxPayload = handshake.maxPayload;
  return TYPE_CHARS[EnginePacketType.Open] + JSON.stringify(body);
}

/**
 * Parses the data of an `open` packet (the text after the "0"), checking every field's type.
 * Unknown fields are ignored.
 */
export function parseHandshake(data: string): HandshakeResult {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, reason: "handshake is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "handshake is not an object" };
  }
  const { sid, upgrades, pingInterval, pingTimeout, maxPayload } = value as Record<string, unknown>;
  // One message shape for every field: the field named, what it must be.
  const fault =
    typeof sid !== "string" || sid.length === 0
      ? "sid must be a non-empty string"
      : !Array.isArray(upgrades) || !upgrades.every((u) => typeof u === "string")
        ? "upgrades must be an array of strings"
        : !isNonNegativeNumber(pingInterval)
          ? "pingInterval must be a non-negative number"
          : !isNonNegativeNumber(pingTimeout)
            ? "pingTimeout must be a non-negative number"
            : maxPayload !== undefined && !isNonNegativeNumber(maxPayload)
              ? "maxPayload must be a non-negative number"
              : null;
  if (fault !== null) return { ok: false, reason: `handshake ${fault}` };
  const handshake: EngineHandshake = {
    sid: sid as string,
    upgrades: upgrades as string[],
    pingInterval: pingInterval as number,
    pingTimeout: pingTimeout as number,
  };
  if (maxPayload !== undefined) handshake.maxPayload = maxPayload as number;
  return { ok: true, handshake };
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

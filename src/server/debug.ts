/**
 * The Socket.IO server's debug output (`DEBUG=duplexio:socket.io` and `duplexio:adapter`, see
 * `src/websocket/debug.ts`): the loggers, and how a line shows a packet and a broadcast's targets.
 * @module
 */
import { debugPreview } from "../protocol/debug.js";
import type { OutgoingSocketPacket } from "../protocol/socketio/index.js";
import { debugLogger } from "../websocket/debug.js";
import type { BroadcastOptions } from "./adapter.js";

/** The logger of the Socket.IO server layer (undefined when off: call it as `debug?.(...)`). */
export const debug = debugLogger("duplexio:socket.io");

/** The logger of the adapters: broadcasts, and the cluster adapters' messages and requests. */
export const adapterDebug = debugLogger("duplexio:adapter");

/** Where a broadcast goes, for a debug line. */
export function describeTargets(opts: BroadcastOptions): string {
  const rooms = opts.rooms.size === 0 ? "all" : `rooms ${[...opts.rooms].join(",")}`;
  return opts.except?.size ? `${rooms} except ${[...opts.except].join(",")}` : rooms;
}

/** The protocol's names of the packet types, by id. */
const TYPE_NAMES = [
  "CONNECT",
  "DISCONNECT",
  "EVENT",
  "ACK",
  "CONNECT_ERROR",
  "BINARY_EVENT",
  "BINARY_ACK",
];

/** A packet for a debug line: type, namespace, ack id and the start of its data as JSON. */
export function describeSocketPacket(packet: OutgoingSocketPacket): string {
  const id = packet.id === undefined ? "" : ` id ${packet.id}`;
  let data = "";
  try {
    if (packet.data !== undefined) data = ` ${debugPreview(JSON.stringify(packet.data))}`;
  } catch {
    data = " <data that JSON cannot show>";
  }
  return `${TYPE_NAMES[packet.type] ?? packet.type} ${packet.nsp}${id}${data}`;
}

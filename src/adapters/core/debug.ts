/**
 * The cluster adapters' debug output (`DEBUG=duplexio:adapter`, the logger the local adapter's
 * broadcasts use too): how a line names a cluster message.
 * @module
 */
import { ClusterMessageType } from "../../protocol/cluster/messages.js";

export { adapterDebug as debug } from "../../server/debug.js";

/** The name of a cluster message type (`Broadcast`, `FetchSockets`, ...), or its number. */
export function clusterMessageName(type: number): string {
  for (const [name, value] of Object.entries(ClusterMessageType)) if (value === type) return name;
  return String(type);
}

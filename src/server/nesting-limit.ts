/**
 * A nesting limit for incoming data. The encoder refuses data nested deeper than 1000 levels, but
 * JSON.parse accepts any depth: without a limit, a client could send data that the server can
 * receive but not send back, and an everyday echo (`ack(data)`, `socket.broadcast.emit("msg",
 * data)`) would throw. Incoming packets nested deeper than half the encoder's limit are refused
 * ("parse error"), which leaves the server room to wrap what it received before sending it.
 */

/** Deepest nesting of objects and arrays accepted in incoming packet data. */
export const MAX_INCOMING_DEPTH = 500;

/**
 * True when `value` nests objects or arrays deeper than `limit` (the value itself at depth 1).
 * Recursion stops at `limit`, so the stack stays bounded.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  if (ArrayBuffer.isView(value)) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (nestedDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  }
  return false;
}

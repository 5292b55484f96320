/**
 * Random ids for sessions and sockets: 20 base64url characters (15 bytes from the operating
 * system's CSPRNG), as engine.io's and socket.io's. The bytes are drawn a few kilobytes at a time
 * (as engine.io's base64id does): one `randomBytes` call per id cost a connect storm 5% of its CPU.
 * @module
 */

import { randomFillSync } from "node:crypto";

const ID_BYTES = 15;
/** Ids drawn per refill. */
const IDS_PER_REFILL = 256;

const pool = Buffer.allocUnsafe(ID_BYTES * IDS_PER_REFILL);
let offset = pool.length;

/** A new random id: 20 base64url characters. */
export function randomId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  // Each byte serves one id only: used bytes are wiped, so the pool never holds a past id.
  pool.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

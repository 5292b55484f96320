/**
 * Shorthands for writing case tables: expected events and the usual close expectations.
 */
import type { ExpectedClose } from "../case.js";
import type { FuzzEvent } from "../fuzz-session.js";

/** A text message event. */
export function text(data: string | Buffer): FuzzEvent {
  return { kind: "message", data: Buffer.from(data), isBinary: false };
}

/** A binary message event. */
export function binary(data: Buffer): FuzzEvent {
  return { kind: "message", data, isBinary: true };
}

/** A pong event. */
export function pong(data: string | Buffer = ""): FuzzEvent {
  return { kind: "pong", data: Buffer.from(data) };
}

/** The connection was still open after a wait (Autobahn's continueLater). */
export function timeout(label: string): FuzzEvent {
  return { kind: "timeout", label };
}

/** The fuzzer closes with 1000 once done; the peer must complete the handshake. */
export const NORMAL_CLOSE: ExpectedClose = { closedByMe: true, codes: [1000], requireClean: true };

/** The peer must fail the connection, with `code` if it sends a close frame. */
export function failsWith(code: number): ExpectedClose {
  return { closedByMe: false, codes: [code], requireClean: false };
}

/** How long the fuzzer waits where Autobahn waits a second: enough for a loaded 2-core box. */
export const SETTLE_MS = 100;

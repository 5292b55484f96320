/**
 * Close status codes (RFC 6455 section 7.4) and close frame payloads (section 5.5.1).
 * @module
 */

import { isValidUtf8 } from "./utf8.js";

/** Registered close codes. 1005, 1006 and 1015 are reported locally and never sent. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatusReceived: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  TlsHandshake: 1015,
} as const;

/**
 * Whether `code` may appear in a close frame on the wire, sent or received:
 * 1000-1003, 1007-1014 and 3000-4999.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/** Whether an application may pass `code` to WHATWG `close()`: 1000 or 3000-4999. */
export function isValidApplicationCloseCode(code: number): boolean {
  return code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
}

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the reason instead of silently dropping it.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The payload of a close frame: the code in network byte order followed by the UTF-8 reason.
 * Empty when `code` is undefined (a reason cannot be sent without a code). Callers check the
 * code and keep the reason within 123 bytes so the frame stays within the control frame limit.
 */
export function encodeClosePayload(code?: number, reason?: string): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const text = reason ? encoder.encode(reason) : null;
  const payload = new Uint8Array(2 + (text ? text.length : 0));
  payload[0] = (code >>> 8) & 0xff;
  payload[1] = code & 0xff;
  if (text) payload.set(text, 2);
  return payload;
}

/** The result of {@link parseClosePayload}. */
export type ClosePayload =
  /** `code` undefined: the frame had an empty payload (reported as 1005 to the application). */
  | { ok: true; code: number | undefined; reason: string }
  /** 1002 for a one-byte payload or a code not valid on the wire, 1007 for a non-UTF-8 reason. */
  | { ok: false; closeCode: number; message: string };

/**
 * Parses and validates a received close frame payload. Never throws. `skipUtf8Validation` (ws's
 * opt-in `skipUTF8Validation`) accepts a reason that is not UTF-8; it is decoded with U+FFFD for
 * the bad bytes.
 */
export function parseClosePayload(payload: Uint8Array, skipUtf8Validation = false): ClosePayload {
  if (payload.length === 0) return { ok: true, code: undefined, reason: "" };
  if (payload.length === 1) {
    return {
      ok: false,
      closeCode: CloseCode.ProtocolError,
      message: "invalid close frame: 1-byte payload",
    };
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidWireCloseCode(code)) {
    return {
      ok: false,
      closeCode: CloseCode.ProtocolError,
      message: `invalid close code ${code}`,
    };
  }
  if (payload.length === 2) return { ok: true, code, reason: "" };
  const reasonBytes = payload.subarray(2);
  if (!skipUtf8Validation && !isValidUtf8(reasonBytes)) {
    return {
      ok: false,
      closeCode: CloseCode.InvalidPayload,
      message: "invalid UTF-8 in close reason",
    };
  }
  return { ok: true, code, reason: decoder.decode(reasonBytes) };
}

/**
 * Per-connection resource limits shared by both roles: how much may wait to be sent
 * (backpressure) and how many frames one incoming message may be split into. Each has a default,
 * so a connection is bounded without configuration; docs/design/websocket.md explains the values.
 * @module
 */

import { CloseCode } from "../protocol/websocket/close-codes.js";

/**
 * Default `maxBufferedAmount`: 8 MiB. ws-style code that sends a burst of a few MB at once keeps
 * working: the limit is checked before each send, so a burst of up to 8 MiB plus one message of
 * any size is queued even if the peer reads nothing meanwhile, and a peer that reads at network
 * speed drains it as it goes. A peer that stops reading is cut once 8 MiB wait for it: in a
 * couple of seconds under the slow-reader attack measured for issue 9 (200 clients, 10 KB per
 * client per event-loop turn). Worst case, every queued payload a distinct buffer, that is 8 MiB
 * per stalled connection (text and shared buffers cost far less: text is encoded only when it
 * leaves, a shared buffer is queued by reference). For comparison: Bun 16 MB (close),
 * uWebSockets.js 64 KiB (drop), ws no limit; Engine.IO's own session limit is 16 MiB.
 */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 8 * 1024 * 1024;

/**
 * Default `maxFragments`: 81,920 frames per message. Above the 65,536 fragments of Autobahn's
 * cases 9.3.1/9.4.1 (4 MiB in 64-byte fragments), so every Autobahn case passes, and low enough
 * that a message cut into 100,000 one-byte fragments is refused.
 */
export const DEFAULT_MAX_FRAGMENTS = 80 * 1024;

/** What happens to a send that finds more than `maxBufferedAmount` bytes already waiting. */
export type BackpressurePolicy = "close" | "drop";

/** Limits of one connection; the same options on `WebSocketServer` and the client `WebSocket`. */
export interface ConnectionLimitOptions {
  /**
   * Most bytes that may wait to be sent on one connection (its `bufferedAmount`:
   * queued messages plus what the socket has not handed to the operating system yet), default
   * 8 MiB; 0 means no limit. The limit applies when a message is sent (`send`, `sendPrepared`):
   * a send that finds more than this many bytes already waiting is refused as `backpressure`
   * says. A send that finds less goes through whatever its size, so one large message never
   * fails on an idle connection. Control frames (ping, pong, close) are never refused; pongs
   * answering a peer's pings are coalesced instead. There is no alias (uWebSockets.js and Bun
   * call their setting `maxBackpressure`): one name, the one of the property it bounds.
   */
  maxBufferedAmount?: number;
  /**
   * What a send over `maxBufferedAmount` does (default "close"):
   * - "close": the connection is failed with `backpressureCloseCode` (1013, Try Again Later):
   *   everything still queued is dropped (those sends' callbacks get an error), the close frame
   *   is sent, and the socket is destroyed after `closeTimeout` unless the peer answers;
   * - "drop": the message is not sent, the send's callback gets an error, and
   *   the socket's `dropped` counts it. A message whose first fragment went out is never cut
   *   (its later fragments are queued), and one whose first fragment was dropped is dropped whole.
   */
  backpressure?: BackpressurePolicy;
  /** Close code of the "close" policy: 1013 (Try Again Later, default) or 1008 (Policy Violation). */
  backpressureCloseCode?: 1008 | 1013;
  /**
   * Most frames one incoming message may be split into (default 81,920, above the 65,536 of
   * Autobahn's largest fragmentation cases); 0 means no limit. A message with more is refused
   * with 1008 (Policy Violation) as soon as the frame past the limit starts, before its payload
   * is read. Fragments cost only the bytes they carry either way; this bounds the work per message.
   */
  maxFragments?: number;
}

/** {@link ConnectionLimitOptions} with the defaults filled in. */
export interface ConnectionLimits {
  maxBufferedAmount: number;
  backpressure: BackpressurePolicy;
  backpressureCloseCode: 1008 | 1013;
  maxFragments: number;
}

/**
 * Fills in the defaults.
 * @throws TypeError for a value that can never work (a configuration mistake).
 */
export function resolveConnectionLimits(options: ConnectionLimitOptions): ConnectionLimits {
  const maxBufferedAmount = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
  if (!(maxBufferedAmount >= 0) || !Number.isFinite(maxBufferedAmount)) {
    throw new TypeError('"maxBufferedAmount" must be a non-negative number of bytes (0: no limit)');
  }
  const backpressure = options.backpressure ?? "close";
  if (backpressure !== "close" && backpressure !== "drop") {
    throw new TypeError('"backpressure" must be "close" or "drop"');
  }
  const backpressureCloseCode = options.backpressureCloseCode ?? CloseCode.TryAgainLater;
  if (
    backpressureCloseCode !== CloseCode.TryAgainLater &&
    backpressureCloseCode !== CloseCode.PolicyViolation
  ) {
    throw new TypeError('"backpressureCloseCode" must be 1013 or 1008');
  }
  const maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
  if (!Number.isSafeInteger(maxFragments) || maxFragments < 0) {
    throw new TypeError('"maxFragments" must be a non-negative integer (0: no limit)');
  }
  return { maxBufferedAmount, backpressure, backpressureCloseCode, maxFragments };
}

/** The defaults, resolved once. */
export const DEFAULT_LIMITS: ConnectionLimits = resolveConnectionLimits({});

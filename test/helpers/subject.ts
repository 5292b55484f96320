/**
 * The WebSocket implementation under test. Suites import `WebSocket` and `WebSocketServer` from
 * here, never from `ws` or `src` directly.
 *
 * `DUPLEXIO_TEST_SUBJECT=ws node test/run.mjs interop hostile conformance` runs the same suites
 * against the `ws` package instead: a way to check the tests themselves against a mature
 * implementation (expect the failures where ws knowingly departs from the design, e.g. no UTF-8
 * fail-fast, 1009 for a 64-bit length with the high bit set, 400 instead of 426 for a bad version).
 */
import * as reference from "ws";
import * as duplexio from "../../src/websocket/index.js";

/** True when the suites run against the `ws` package (to check the tests themselves). */
export const subjectIsWsPackage = process.env.DUPLEXIO_TEST_SUBJECT === "ws";

/** The client class under test (typed as duplexio's; the `ws` class is API-compatible). */
export const WebSocket = subjectIsWsPackage
  ? (reference.WebSocket as unknown as typeof duplexio.WebSocket)
  : duplexio.WebSocket;
export type WebSocket = duplexio.WebSocket;

/** The server class under test. */
export const WebSocketServer = subjectIsWsPackage
  ? (reference.WebSocketServer as unknown as typeof duplexio.WebSocketServer)
  : duplexio.WebSocketServer;
export type WebSocketServer = duplexio.WebSocketServer;

/**
 * The WebSocket implementation under test. Suites import `WebSocket` and `WebSocketServer` from
 * here, never from `ws` or `src` directly, so one switch points every suite at another
 * implementation.
 */
export { WebSocket, WebSocketServer } from "ws";

/** True when the suites run against the `ws` package (to check the tests themselves). */
export const subjectIsWsPackage = true;

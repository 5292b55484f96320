/**
 * Same-origin check for browser connections.
 *
 * Browsers apply CORS to `fetch`, but not to WebSocket: any web site the user visits could open
 * `ws://127.0.0.1:8080/ws` and talk to this server. Browsers always send `Origin` with WebSocket
 * and cross-origin requests, so comparing it with `Host` refuses other sites' pages while
 * non-browser clients (no `Origin` header) and the demo's own pages still connect.
 * @module
 */

import type { IncomingMessage } from "node:http";

/** True when the request has no `Origin` (not a browser) or its origin's host is the `Host` header. */
export function isSameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const host = request.headers.host;
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    // "null" (sandboxed frames, file: pages) and garbage are not our pages.
    return false;
  }
}

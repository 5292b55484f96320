/**
 * The query string of Engine.IO requests (`EIO`, `transport`, `sid`, `b64`), parsed once per
 * request and kept as `request._query`, where engine.io (and Socket.IO's handshake) keep it.
 * @module
 */

import type { IncomingMessage } from "node:http";

/** A request as the server sees it: `_query` holds its parsed query string (as in engine.io). */
export type EngineRequest = IncomingMessage & { _query: Record<string, string> };

/** Parses the query string into `request._query` (first value of each key) unless already done. */
export function prepareQuery(request: IncomingMessage): Record<string, string> {
  const engineRequest = request as EngineRequest;
  const existing = engineRequest._query;
  if (existing !== undefined && existing !== null && typeof existing === "object") return existing;
  const query: Record<string, string> = {};
  const url = request.url ?? "";
  const start = url.indexOf("?");
  if (start !== -1) {
    for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
      // "__proto__" would replace the object's prototype rather than add a key.
      if (key === "__proto__" || Object.hasOwn(query, key)) continue;
      query[key] = value;
    }
  }
  engineRequest._query = query;
  return query;
}

/** The protocol revision asked for by `EIO`, or null when it is not served. */
export function protocolOf(query: Record<string, string>, allowEIO3: boolean): 3 | 4 | null {
  if (query.EIO === "4") return 4;
  if (query.EIO === "3" && allowEIO3) return 3;
  return null;
}

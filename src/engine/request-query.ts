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
    const search = url.slice(start + 1);
    if (ENCODED.test(search)) {
      for (const [key, value] of new URLSearchParams(search)) addFirst(query, key, value);
    } else {
      // Nothing to decode (the usual "EIO=4&transport=websocket"): the same pairs as
      // URLSearchParams gives, split here without its iterator and entry arrays.
      // URLSearchParams drops one leading "?" ("/x??a=1" has the key "a").
      let from = search.charCodeAt(0) === 0x3f ? 1 : 0;
      while (from <= search.length) {
        let to = search.indexOf("&", from);
        if (to === -1) to = search.length;
        if (to > from) {
          const equals = search.indexOf("=", from);
          if (equals === -1 || equals > to) addFirst(query, search.slice(from, to), "");
          else addFirst(query, search.slice(from, equals), search.slice(equals + 1, to));
        }
        from = to + 1;
      }
    }
  }
  engineRequest._query = query;
  return query;
}

/** What URLSearchParams decodes: percent escapes, and "+" for a space. */
const ENCODED = /[%+]/;

/** Keeps the first value of each key. */
function addFirst(query: Record<string, string>, key: string, value: string): void {
  // "__proto__" would replace the object's prototype rather than add a key.
  if (key === "__proto__" || Object.hasOwn(query, key)) return;
  query[key] = value;
}

/** The protocol revision asked for by `EIO`, or null when it is not served. */
export function protocolOf(query: Record<string, string>, allowEIO3: boolean): 3 | 4 | null {
  if (query.EIO === "4") return 4;
  if (query.EIO === "3" && allowEIO3) return 3;
  return null;
}

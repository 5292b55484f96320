/**
 * The argument checks of the WHATWG `WebSocket` constructor: the URL (ws:, wss:, http: and https:
 * mapped, no fragment) and the subprotocol list (tokens, no duplicates). Failures throw a
 * `SyntaxError` DOMException, as browsers do.
 * @module
 */

import { isToken } from "../protocol/websocket/http-tokens.js";

/**
 * Parses `url` as the WebSocket constructor does: http: becomes ws:, https: becomes wss:, any
 * other scheme or a fragment (even an empty one) is a SyntaxError.
 */
export function toWebSocketUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DOMException(`Invalid URL: ${url}`, "SyntaxError");
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new DOMException(
      `The URL's scheme must be "ws" or "wss"; "${parsed.protocol.slice(0, -1)}" is not allowed`,
      "SyntaxError",
    );
  }
  // `hash` is "" both without a fragment and with an empty one; the serialization tells them apart
  // (a literal "#" elsewhere is always percent-encoded).
  if (parsed.href.includes("#")) {
    throw new DOMException("The URL must not contain a fragment", "SyntaxError");
  }
  return parsed;
}

/**
 * The subprotocols argument as a list: a string is one protocol; each must be an HTTP token and
 * appear once (case-sensitive, as RFC 6455 compares them).
 */
export function toSubprotocolList(protocols: string | readonly string[] | undefined): string[] {
  if (protocols === undefined) return [];
  const list = typeof protocols === "string" ? [protocols] : Array.from(protocols, String);
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(`Invalid subprotocol: ${JSON.stringify(protocol)}`, "SyntaxError");
    }
    if (seen.has(protocol)) {
      throw new DOMException(`Duplicate subprotocol: ${JSON.stringify(protocol)}`, "SyntaxError");
    }
    seen.add(protocol);
  }
  return list;
}

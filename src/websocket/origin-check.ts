/**
 * The `allowedOrigins` option: which browser origins may open a WebSocket (protection against
 * cross-site WebSocket hijacking, where a page on another site connects with the user's cookies).
 * @module
 */

import type { IncomingMessage } from "node:http";

/**
 * A list of origins (`"https://example.com"`, `"http://localhost:3000"`; compared
 * case-insensitively, a trailing slash ignored) or a predicate. With a list, a request without an
 * `Origin` header is refused; a predicate receives `undefined` for it and decides.
 */
export type AllowedOrigins =
  | readonly string[]
  | ((origin: string | undefined, request: IncomingMessage) => boolean);

/** A predicate telling whether a request's origin may connect. */
export type OriginCheck = (origin: string | undefined, request: IncomingMessage) => boolean;

/** Origins are compared as serialized by browsers: lower case, no trailing slash. */
function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim().toLowerCase();
  return trimmed.endsWith("/") ? trimmed.slice(0, -1) : trimmed;
}

/** Turns the option into one predicate; a list becomes a set lookup. */
export function createOriginCheck(allowed: AllowedOrigins): OriginCheck {
  if (typeof allowed === "function") return allowed;
  const origins = new Set(allowed.map(normalizeOrigin));
  return (origin) => origin !== undefined && origins.has(normalizeOrigin(origin));
}

/**
 * The session cookie (`cookie` option): a `Set-Cookie` value (RFC 6265 section 4.1) holding the
 * session id, so that load balancers can stick a client to the server holding its session.
 * @module
 */

import type { ResolvedCookieOptions } from "./options.js";

/** `name=value; Path=/; HttpOnly; SameSite=Lax`... The value is percent-encoded. */
export function serializeCookie(value: string, options: ResolvedCookieOptions): string {
  let cookie = `${options.name}=${encodeURIComponent(value)}`;
  if (options.maxAge !== undefined && Number.isFinite(options.maxAge)) {
    cookie += `; Max-Age=${Math.floor(options.maxAge)}`;
  }
  if (options.domain) cookie += `; Domain=${options.domain}`;
  if (typeof options.path === "string") cookie += `; Path=${options.path}`;
  if (options.expires instanceof Date && !Number.isNaN(options.expires.getTime())) {
    cookie += `; Expires=${options.expires.toUTCString()}`;
  }
  if (options.httpOnly) cookie += "; HttpOnly";
  if (options.secure) cookie += "; Secure";
  if (options.partitioned) cookie += "; Partitioned";
  if (options.priority) {
    cookie += `; Priority=${options.priority[0].toUpperCase()}${options.priority.slice(1)}`;
  }
  const sameSite = options.sameSite;
  if (sameSite === true || sameSite === "strict") cookie += "; SameSite=Strict";
  else if (sameSite === "lax") cookie += "; SameSite=Lax";
  else if (sameSite === "none") cookie += "; SameSite=None";
  return cookie;
}

/**
 * Node only (imported by `node.ts`, never by the browser entry): the cookies a server sets for a
 * Manager's connections, sent back on its later polling requests and WebSocket handshakes, as a
 * browser does for its own origin. Sticky load balancers (nginx's `sticky cookie`, HAProxy's
 * `cookie`, AWS ALB's `AWSALB`) and Engine.IO's `io` cookie need them to route a session's
 * requests to the node that holds it.
 *
 * A subset of RFC 6265 section 5 sized for that job: one jar per Manager (whose requests all go
 * to one origin), `Path`, `Domain`, `Secure`, `Max-Age` and `Expires` honoured, `HttpOnly` and
 * `SameSite` accepted and ignored (there are no scripts or other sites here). Bounded: at most
 * {@link MAX_COOKIES} cookies of at most {@link MAX_COOKIE_BYTES} bytes each.
 * @module
 */
import type { OutgoingHttpHeaders } from "node:http";

/** Cookies one jar keeps (RFC 6265 section 6.1 asks for at least 50 per domain). */
export const MAX_COOKIES = 50;
/** Bytes of one cookie's name and value (RFC 6265 section 6.1's minimum, and browsers' limit). */
export const MAX_COOKIE_BYTES = 4096;

/** One stored cookie (RFC 6265 section 5.3's record, without what this jar does not use). */
interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** The host it was set by, or the `Domain` attribute's value (then `hostOnly` is false). */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  readonly secure: boolean;
  /** Milliseconds since the epoch; Infinity for a session cookie. */
  readonly expiresAt: number;
  /** Order of creation, for the header's order (section 5.4 step 2). */
  readonly created: number;
}

/** A token of RFC 6265's cookie-name (RFC 9110's `token`). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** cookie-octet (section 4.1.1), optionally in double quotes; browsers are laxer, servers are not. */
const COOKIE_VALUE =
  /^(?:"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"|[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)$/;

/** The cookies of one Manager. */
export class CookieJar {
  readonly #cookies: StoredCookie[] = [];
  readonly #now: () => number;
  #created = 0;

  /** @param now - the clock in milliseconds since the epoch (default `Date.now`) */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** How many cookies are stored (expired ones included until the next use). */
  get size(): number {
    return this.#cookies.length;
  }

  /**
   * Stores the cookies of a response from `url` (`Set-Cookie` header values); invalid or
   * oversized ones, and ones for another domain, are ignored (section 5.3).
   */
  store(url: URL, setCookie: readonly string[]): void {
    for (const line of setCookie) this.#storeOne(url, line);
  }

  /** The `Cookie` header value for a request to `url` (section 5.4), or undefined when none. */
  header(url: URL): string | undefined {
    const now = this.#now();
    this.#dropExpired(now);
    const host = canonicalHost(url);
    const secure = url.protocol === "https:" || url.protocol === "wss:";
    const path = url.pathname || "/";
    const matching = this.#cookies.filter(
      (cookie) =>
        (cookie.hostOnly ? host === cookie.domain : domainMatches(host, cookie.domain)) &&
        pathMatches(path, cookie.path) &&
        (secure || !cookie.secure),
    );
    if (matching.length === 0) return undefined;
    matching.sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    return matching.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  }

  #storeOne(url: URL, line: string): void {
    if (line.length > MAX_COOKIE_BYTES * 2) return;
    const [pair = "", ...attributes] = line.split(";");
    const equals = pair.indexOf("=");
    if (equals < 1) return;
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (!COOKIE_NAME.test(name) || !COOKIE_VALUE.test(value)) return;
    if (name.length + value.length > MAX_COOKIE_BYTES) return;

    const now = this.#now();
    const host = canonicalHost(url);
    let domain = host;
    let hostOnly = true;
    let path = defaultPath(url.pathname);
    let secure = false;
    let expiresAt = Number.POSITIVE_INFINITY;
    let maxAgeSeen = false;
    for (const attribute of attributes) {
      const at = attribute.indexOf("=");
      const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
      const given = at === -1 ? "" : attribute.slice(at + 1).trim();
      if (key === "max-age") {
        // Section 5.2.2: a leading digit or "-", then digits; otherwise ignored.
        if (!/^-?\d+$/.test(given)) continue;
        const seconds = Number(given);
        expiresAt = seconds <= 0 ? Number.NEGATIVE_INFINITY : now + seconds * 1000;
        maxAgeSeen = true;
      } else if (key === "expires") {
        if (maxAgeSeen) continue; // Max-Age wins (section 5.3 step 3).
        const time = Date.parse(given);
        if (!Number.isNaN(time)) expiresAt = time;
      } else if (key === "domain") {
        const wanted = given.replace(/^\./, "").toLowerCase();
        if (wanted === "") continue;
        // Section 5.3 step 6: a domain the request's host is not in is refused, whole cookie.
        if (!domainMatches(host, wanted)) return;
        domain = wanted;
        hostOnly = false;
      } else if (key === "path") {
        if (given.startsWith("/")) path = given;
      } else if (key === "secure") {
        secure = true;
      }
    }
    const at = this.#cookies.findIndex(
      (cookie) => cookie.name === name && cookie.domain === domain && cookie.path === path,
    );
    const created = at === -1 ? this.#created++ : this.#cookies[at].created;
    if (at !== -1) this.#cookies.splice(at, 1);
    // A past expiry deletes the cookie (how servers clear one), and stores nothing.
    if (expiresAt <= now) return;
    this.#dropExpired(now);
    // Full: the oldest goes (section 5.3's eviction, simplified to creation order).
    if (this.#cookies.length >= MAX_COOKIES) this.#cookies.shift();
    this.#cookies.push({ name, value, domain, hostOnly, path, secure, expiresAt, created });
  }

  #dropExpired(now: number): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--) {
      if (this.#cookies[i].expiresAt <= now) this.#cookies.splice(i, 1);
    }
  }
}

/** The host as cookies compare it: lower case, IPv6 without brackets. */
function canonicalHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

/** Section 5.1.3: `host` is `domain` or a subdomain of it (never for IP addresses). */
function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  const isAddress = /^[\d.]+$/.test(host) || host.includes(":");
  return !isAddress && host.endsWith(`.${domain}`);
}

/** Section 5.1.4: the request path up to, not including, its last "/" ("/" when none). */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith("/")) return "/";
  const last = requestPath.lastIndexOf("/");
  return last <= 0 ? "/" : requestPath.slice(0, last);
}

/** Section 5.1.4: `path` is `cookiePath` or below it. */
function pathMatches(path: string, cookiePath: string): boolean {
  if (path === cookiePath) return true;
  if (!path.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || path[cookiePath.length] === "/";
}

/**
 * `headers` with `cookie` added to any `Cookie` header already there (the user's `extraHeaders`),
 * as one header (RFC 6265 section 5.4: a single Cookie header); `headers` itself when `cookie` is
 * undefined.
 */
export function withCookieHeader<Headers extends OutgoingHttpHeaders>(
  headers: Headers | undefined,
  cookie: string | undefined,
): OutgoingHttpHeaders | undefined {
  if (cookie === undefined) return headers;
  const out: OutgoingHttpHeaders = {};
  let given: string | undefined;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== "cookie") out[name] = value;
    else if (value !== undefined) {
      const text = Array.isArray(value) ? value.join("; ") : String(value);
      given = given === undefined ? text : `${given}; ${text}`;
    }
  }
  out.cookie = given === undefined ? cookie : `${given}; ${cookie}`;
  return out;
}

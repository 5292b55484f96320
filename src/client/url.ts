/**
 * `io(url)` parsing, as socket.io-client does it: a missing URL means the page's own origin, a
 * relative one ("/admin", "//host/admin") is resolved against the page, a bare host gets the page's
 * scheme (https when there is no page); the path is the namespace, the query goes to the Engine.IO
 * handshake, and managers are shared per scheme, host, port and Engine.IO path.
 */

/** The parts of an `io()` URL. */
export interface ParsedUrl {
  /** Scheme without ":" ("http", "https", "ws" or "wss"). */
  protocol: string;
  /** Host name and port as in the URL's authority: brackets kept, a default port left out. */
  host: string;
  /** Port, the scheme's default when the URL has none ("80" or "443"). */
  port: string;
  /** The namespace: the URL's path ("/" when empty). */
  path: string;
  /** The query parameters (the last value of a repeated name). */
  query: Record<string, string>;
  /** `scheme://host:port`: where the Engine.IO connection goes (the path comes from the options). */
  origin: string;
  /** Cache key of the manager: scheme, host, port and the Engine.IO path. */
  id: string;
}

/** What the parser needs of `window.location`; injectable for tests and non-browser hosts. */
export interface LocationLike {
  protocol: string;
  host: string;
}

/** A URL naming its scheme ("https://", "ftp://"); anything else is a host or a path. */
const SCHEME = /^[a-z][a-z\d+.-]*:\/\//i;

/** The page's location in a browser, undefined elsewhere. */
export function pageLocation(): LocationLike | undefined {
  const location = (globalThis as { location?: LocationLike }).location;
  return typeof location === "object" && location !== null && typeof location.host === "string"
    ? location
    : undefined;
}

/**
 * Parses an `io()` URL. Returns a reason instead of throwing when the URL cannot be understood
 * (no URL outside a browser, an unsupported scheme, a malformed host).
 *
 * @param uri the URL given to `io()`; undefined for the page's origin
 * @param enginePath the Engine.IO path (part of the manager cache key)
 * @param location the page's location (default: `globalThis.location` when present)
 */
export function parseUrl(
  uri: string | undefined,
  enginePath: string,
  location: LocationLike | undefined = pageLocation(),
): { ok: true; url: ParsedUrl } | { ok: false; reason: string } {
  const page = location === undefined ? undefined : `${location.protocol}//${location.host}`;
  let text = uri || page;
  if (text === undefined) return { ok: false, reason: "no URL and no page location" };
  if (/^\/(?!\/)/.test(text)) {
    // "/admin": a namespace on the page's server.
    if (page === undefined) return { ok: false, reason: `relative URL "${text}" outside a page` };
    text = page + text;
  } else if (!SCHEME.test(text)) {
    // "//host/admin" or "host:3000/admin": the page's scheme, https without a page.
    text = `${location?.protocol ?? "https:"}${text.startsWith("//") ? "" : "//"}${text}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { ok: false, reason: `invalid URL "${text}"` };
  }
  // The URL parser lowercases the scheme, and refuses an http(s) or ws(s) URL without a host.
  const protocol = parsed.protocol.slice(0, -1);
  if (!/^(http|ws)s?$/.test(protocol)) {
    return { ok: false, reason: `unsupported scheme "${protocol}"` };
  }
  const port = parsed.port || (protocol.endsWith("s") ? "443" : "80");
  // No prototype: a "__proto__" parameter stays an ordinary entry.
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of parsed.searchParams) query[name] = value;
  // URL's `hostname` keeps an IPv6 address's brackets, as the origin and the cache key want.
  const origin = `${protocol}://${parsed.hostname}:${port}`;
  return {
    ok: true,
    url: {
      protocol,
      host: parsed.host,
      port,
      path: parsed.pathname || "/",
      query,
      origin,
      id: `${origin}${enginePath}`,
    },
  };
}

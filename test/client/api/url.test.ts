/**
 * `io()` URL parsing: scheme defaults, the page's location, the namespace from the path, the
 * query, and the manager cache key.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseUrl } from "../../../src/client/url.js";

const PAGE = { protocol: "https:", host: "app.example.com" };

function parsed(uri: string | undefined, location = PAGE as typeof PAGE | undefined) {
  const result = parseUrl(uri, "/socket.io", location);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.url;
}

describe("io() URL parsing", () => {
  it("takes the namespace from the path and the default port from the scheme", () => {
    const url = parsed("http://localhost/admin");
    assert.equal(url.path, "/admin");
    assert.equal(url.port, "80");
    assert.equal(url.origin, "http://localhost:80");
    assert.equal(url.id, "http://localhost:80/socket.io");
    assert.equal(parsed("wss://h").port, "443");
    assert.equal(parsed("https://h:8443/").port, "8443");
    assert.equal(parsed("https://h").path, "/");
  });

  it("treats localhost and localhost:80 as the same manager", () => {
    assert.equal(parsed("http://localhost").id, parsed("http://localhost:80/chat").id);
    assert.notEqual(parsed("http://localhost").id, parsed("http://localhost:81").id);
  });

  it("defaults to the page's origin and resolves relative URLs against it", () => {
    assert.equal(parsed(undefined).origin, "https://app.example.com:443");
    assert.equal(parsed(undefined).path, "/");
    const relative = parsed("/chat");
    assert.equal(relative.origin, "https://app.example.com:443");
    assert.equal(relative.path, "/chat");
    assert.equal(parsed("//other.example.com/x").origin, "https://other.example.com:443");
    assert.equal(parsed("other.example.com:3000/x").origin, "https://other.example.com:3000");
  });

  it("gives a bare host https outside a page, and refuses what cannot be resolved", () => {
    assert.equal(parsed("example.com", undefined).origin, "https://example.com:443");
    assert.equal(parseUrl(undefined, "/socket.io", undefined).ok, false);
    assert.equal(parseUrl("/chat", "/socket.io", undefined).ok, false);
    assert.equal(parseUrl("http://exa mple.com", "/socket.io", undefined).ok, false);
    assert.equal(parseUrl("http://", "/socket.io", undefined).ok, false);
    // A scheme other than http(s) and ws(s) is refused, not taken for a host name.
    assert.deepEqual(parseUrl("ftp://example.com", "/socket.io", PAGE), {
      ok: false,
      reason: 'unsupported scheme "ftp"',
    });
  });

  it("keeps the query and brackets IPv6 hosts", () => {
    const url = parsed("http://[::1]:3000/ns?token=a%20b&x=1");
    assert.equal(url.origin, "http://[::1]:3000");
    assert.equal(url.host, "[::1]:3000");
    assert.equal(parsed("HTTPS://Example.COM:443").host, "example.com", "default port left out");
    assert.deepEqual({ ...url.query }, { token: "a b", x: "1" });
    assert.equal(
      Object.getOwnPropertyDescriptor(parsed("http://h/?__proto__=1").query, "__proto__")?.value,
      "1",
    );
  });

  it("includes the Engine.IO path in the cache key", () => {
    const a = parseUrl("http://h", "/socket.io");
    const b = parseUrl("http://h", "/other");
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.url.id, b.url.id);
  });
});

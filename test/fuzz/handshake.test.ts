/**
 * Fuzzing the opening handshake checks (src/protocol/websocket/handshake.ts, http-tokens.ts):
 * random and bent header values and lists (case, whitespace, repeated fields as arrays, control
 * characters, non-Latin-1 text) for Upgrade, Connection, Host, Sec-WebSocket-Key/Version/
 * Protocol/Extensions. The server check never throws and refuses with the status a reference
 * reading of RFC 6455 4.2.1 gives (405, 400, 426 with `Sec-WebSocket-Version: 13`); the client
 * check never throws and accepts only a response that completes the handshake; the list and token
 * helpers match the reference grammar; and the checks stay linear in the header size.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkServerResponse,
  checkUpgradeRequest,
  formatHttpError,
  type Headers,
  parseSubprotocols,
} from "../../src/protocol/websocket/handshake.js";
import {
  isToken,
  isValidHeaderValue,
  splitList,
} from "../../src/protocol/websocket/http-tokens.js";
import { assertFast, fuzz, mutateString, mutationArb } from "./config.js";
import {
  extensionListArb,
  headerTextArb,
  refIsHeaderValue,
  refIsToken,
  refParseExtensions,
  refSplitList,
  refTrim,
  tokenArb,
} from "./http-grammar.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const acceptFor = (key: string) =>
  createHash("sha1")
    .update(key + GUID)
    .digest("base64");

/** A header's value as one string (Node gives repeated fields as arrays only for some names). */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function listHas(value: string | undefined, token: string): boolean {
  return value !== undefined && refSplitList(value).some((e) => e.toLowerCase() === token);
}

/** The status RFC 6455 4.2.1 (as docs/design/websocket.md words it) gives a request; 101 if fine. */
function refUpgradeStatus(method: string, headers: Headers): number {
  if (method !== "GET") return 405;
  if (!listHas(joined(headers.upgrade), "websocket")) return 400;
  if (!listHas(joined(headers.connection), "upgrade")) return 400;
  const host = joined(headers.host);
  if (host === undefined || refTrim(host) === "") return 400;
  const version = joined(headers["sec-websocket-version"]);
  if (version === undefined || refTrim(version) !== "13") return 426;
  const key = headers["sec-websocket-key"];
  if (typeof key !== "string" || !/^[A-Za-z0-9+/]{22}==$/.test(refTrim(key))) return 400;
  const protocol = joined(headers["sec-websocket-protocol"]);
  if (protocol !== undefined) {
    const list = refSplitList(protocol);
    if (list.length === 0 || !list.every(refIsToken) || new Set(list).size !== list.length) {
      return 400;
    }
  }
  const extensions = joined(headers["sec-websocket-extensions"]);
  if (extensions !== undefined && refParseExtensions(extensions) === null) return 400;
  return 101;
}

const ows = fc.constantFrom("", " ", "\t", " \t ");
/** A good value with case and whitespace variations, or a list holding it. */
function variants(good: string, others: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(ows, fc.constantFrom(good, good.toUpperCase(), good.toLowerCase()), ows)
      .map((p) => p.join("")),
    fc
      .tuple(
        fc.constantFrom(...others),
        fc.constantFrom(good, good.toUpperCase()),
        fc.constantFrom(",", ", ", " ,", ",,"),
      )
      .map(([other, g, sep]) => `${other}${sep}${g}`),
  );
}

/** Any value a header may take: good, varied, random, mutated. */
function valueArb(good: fc.Arbitrary<string>): fc.Arbitrary<string | string[] | undefined> {
  const one = fc.oneof(
    { weight: 6, arbitrary: good },
    { weight: 2, arbitrary: headerTextArb },
    {
      weight: 2,
      arbitrary: fc
        .tuple(good, fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
        .map(([s, m]) => mutateString(s, m)),
    },
  );
  return fc.oneof(
    { weight: 12, arbitrary: one },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) },
  );
}

const keyArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64")),
  fc.uint8Array({ minLength: 15, maxLength: 18 }).map((b) => Buffer.from(b).toString("base64")),
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b) => Buffer.from(b).toString("base64").replace(/=+$/, "")),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64url")),
);

const protocolArb = fc.oneof(
  fc.array(tokenArb, { minLength: 1, maxLength: 4 }).map((t) => t.join(", ")),
  fc.array(fc.oneof(tokenArb, ows), { maxLength: 5 }).map((t) => t.join(",")),
);

const requestArb = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constant("GET") },
    { weight: 1, arbitrary: fc.constantFrom("POST", "get", "HEAD", "") },
  ),
  headers: fc.record(
    {
      host: valueArb(fc.constantFrom("example.com", "127.0.0.1:8080", " ", "")),
      upgrade: valueArb(variants("websocket", ["h2c", "WebSocket/13", "websockets"])),
      connection: valueArb(variants("upgrade", ["keep-alive", "close", "upgrades"])),
      "sec-websocket-version": valueArb(fc.constantFrom("13", " 13 ", "8", "13, 8", "013", "")),
      "sec-websocket-key": valueArb(keyArb),
      "sec-websocket-protocol": valueArb(protocolArb),
      "sec-websocket-extensions": valueArb(extensionListArb),
    },
    {
      requiredKeys: ["host", "upgrade", "connection", "sec-websocket-version", "sec-websocket-key"],
    },
  ),
});

describe("fuzz: WebSocket handshake, server side", () => {
  it("checkUpgradeRequest never throws and refuses with the reference status", () => {
    fuzz(
      "checkUpgradeRequest",
      fc.property(requestArb, ({ method, headers }) => {
        const result = checkUpgradeRequest({ method, headers });
        const expected = refUpgradeStatus(method, headers);
        if (result.ok) {
          assert.equal(expected, 101);
          const key = headers["sec-websocket-key"] as string;
          assert.equal(result.key, refTrim(key));
          assert.equal(Buffer.from(result.key, "base64").length, 16);
          const protocol = joined(headers["sec-websocket-protocol"]);
          assert.deepEqual(result.protocols, protocol === undefined ? [] : refSplitList(protocol));
          const extensions = joined(headers["sec-websocket-extensions"]);
          assert.deepEqual(
            result.extensions,
            extensions === undefined ? [] : refParseExtensions(extensions),
          );
          return;
        }
        assert.equal(result.status, expected, result.message);
        if (result.status === 426) {
          assert.deepEqual(result.headers, { "Sec-WebSocket-Version": "13" });
        }
        if (result.status === 405) assert.deepEqual(result.headers, { Allow: "GET" });
        // The refusal can be written as an HTTP response without injecting anything.
        const response = formatHttpError(result.status, result.message, result.headers);
        assert.ok(response.startsWith(`HTTP/1.1 ${result.status} `));
      }),
      5000,
    );
  });

  it("parseSubprotocols: the reference list of unique tokens, or null", () => {
    fuzz(
      "parseSubprotocols",
      fc.property(fc.oneof(protocolArb, headerTextArb), (text) => {
        const list = refSplitList(text);
        const valid =
          list.length > 0 && list.every(refIsToken) && new Set(list).size === list.length;
        assert.deepEqual(parseSubprotocols(text), valid ? list : null);
      }),
      3000,
    );
  });

  it("isToken, splitList, isValidHeaderValue match the reference grammar", () => {
    fuzz(
      "http tokens",
      fc.property(headerTextArb, (text) => {
        assert.equal(isToken(text), refIsToken(text));
        assert.deepEqual(splitList(text), refSplitList(text));
        assert.equal(isValidHeaderValue(text), refIsHeaderValue(text));
      }),
      5000,
    );
  });

  it("stays linear: 16 KiB header values with long whitespace runs are checked in < 50 ms", () => {
    // Node's default maxHeaderSize is 16 KiB: a peer can send one value that large. A check
    // quadratic in the value's length spends ~200 ms of CPU per such request (a DoS lever).
    const field = fc.constantFrom(
      "upgrade",
      "connection",
      "host",
      "sec-websocket-version",
      "sec-websocket-key",
      "sec-websocket-protocol",
      "sec-websocket-extensions",
    );
    // Kept structured (not the 16 KiB string) so a counterexample stays readable.
    const value = fc.record({
      before: tokenArb,
      run: fc.integer({ min: 12_000, max: 16_000 }),
      space: fc.constantFrom(" ", "\t"),
      after: tokenArb,
    });
    const good: Headers = {
      host: "example.com",
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    fuzz(
      "linear time",
      fc.property(field, value, (name, { before, run, space, after }) => {
        const text = `${before}${space.repeat(run)}${after}`;
        const headers = { ...good, [name]: text };
        assertFast(`checkUpgradeRequest with a ${text.length}-character ${name}`, 50, () =>
          checkUpgradeRequest({ method: "GET", headers }),
        );
        const response = {
          ...headers,
          "sec-websocket-accept": acceptFor("dGhlIHNhbXBsZSBub25jZQ=="),
        };
        assertFast(`checkServerResponse with a ${text.length}-character ${name}`, 50, () =>
          checkServerResponse(
            { statusCode: 101, headers: response },
            { key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: ["a"], offeredExtensions: ["x"] },
          ),
        );
      }),
      10,
      20, // timing cases, not worth multiplying in the soak
    );
  });
});

describe("fuzz: WebSocket handshake, client side", () => {
  const responseArb = fc.record({
    statusCode: fc.oneof(
      { weight: 8, arbitrary: fc.constant(101) },
      { weight: 1, arbitrary: fc.constantFrom(200, 400, 426, 0) },
    ),
    key: fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .map((b) => Buffer.from(b).toString("base64")),
    offeredProtocols: fc.uniqueArray(tokenArb, { maxLength: 3 }),
    offeredExtensions: fc.uniqueArray(fc.oneof(tokenArb, fc.constant("permessage-deflate")), {
      maxLength: 2,
    }),
    upgrade: valueArb(variants("websocket", ["h2c"])),
    connection: valueArb(variants("upgrade", ["keep-alive"])),
    accept: fc.oneof(fc.constantFrom("right", "right-padded", "wrong"), headerTextArb),
    protocol: fc.option(fc.oneof(tokenArb, headerTextArb, fc.constant("chosen")), {
      nil: undefined,
    }),
    extensions: fc.option(fc.oneof(extensionListArb, headerTextArb, fc.constant("offered")), {
      nil: undefined,
    }),
  });

  it("checkServerResponse never throws and accepts only a response completing the handshake", () => {
    fuzz(
      "checkServerResponse",
      fc.property(responseArb, (r) => {
        const right = acceptFor(r.key);
        const accept =
          r.accept === "right"
            ? right
            : r.accept === "right-padded"
              ? ` ${right}\t`
              : r.accept === "wrong"
                ? acceptFor(`${r.key}x`)
                : r.accept;
        const protocol = r.protocol === "chosen" ? r.offeredProtocols[0] : r.protocol;
        const extensions =
          r.extensions === "offered" ? r.offeredExtensions.join(", ") || undefined : r.extensions;
        const headers: Headers = {
          upgrade: r.upgrade,
          connection: r.connection,
          "sec-websocket-accept": accept,
          "sec-websocket-protocol": protocol,
          "sec-websocket-extensions": extensions,
        };
        const result = checkServerResponse(
          { statusCode: r.statusCode, headers },
          { key: r.key, protocols: r.offeredProtocols, offeredExtensions: r.offeredExtensions },
        );
        const upgrade = joined(r.upgrade);
        const parsedExtensions = extensions === undefined ? [] : refParseExtensions(extensions);
        const names = parsedExtensions?.map((e) => e.name) ?? [];
        const expectOk =
          r.statusCode === 101 &&
          upgrade !== undefined &&
          refTrim(upgrade).toLowerCase() === "websocket" &&
          listHas(joined(r.connection), "upgrade") &&
          refTrim(accept) === right &&
          (protocol === undefined || r.offeredProtocols.includes(refTrim(protocol))) &&
          parsedExtensions !== null &&
          names.every((n) => r.offeredExtensions.includes(n)) &&
          new Set(names).size === names.length;
        assert.equal(result.ok, expectOk, result.ok ? "accepted" : result.message);
        if (result.ok) {
          assert.equal(result.protocol, protocol === undefined ? "" : refTrim(protocol));
          assert.deepEqual(result.extensions, parsedExtensions);
        }
      }),
      4000,
    );
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64 } from "../../../src/protocol/base64.js";
import {
  checkServerResponse,
  checkUpgradeRequest,
  computeAcceptKey,
  formatAcceptResponse,
  formatHttpError,
  generateClientKey,
  type Headers,
  parseSubprotocols,
} from "../../../src/protocol/websocket/handshake.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

function request(overrides: Headers = {}, method = "GET") {
  const headers: Headers = {
    host: "server.example.com",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...overrides,
  };
  for (const name of Object.keys(headers)) if (headers[name] === undefined) delete headers[name];
  return { method, headers };
}

describe("handshake keys", () => {
  it("computes the RFC 6455 example accept value", () => {
    assert.equal(computeAcceptKey(KEY), ACCEPT);
  });

  it("generates base64 keys of 16 bytes from the injected source", () => {
    const key = generateClientKey((t) => t.fill(0xab));
    assert.equal(decodeBase64(key)?.length, 16);
    assert.equal(key, Buffer.alloc(16, 0xab).toString("base64"));
    const a = generateClientKey();
    const b = generateClientKey();
    assert.equal(decodeBase64(a)?.length, 16);
    assert.notEqual(a, b);
  });
});

describe("server request checks", () => {
  it("accepts the RFC example request", () => {
    const result = checkUpgradeRequest(
      request({
        origin: "http://example.com",
        "sec-websocket-protocol": "chat, superchat",
        "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      key: KEY,
      protocols: ["chat", "superchat"],
      extensions: [
        { name: "permessage-deflate", params: [{ name: "client_max_window_bits", value: true }] },
      ],
    });
  });

  it("accepts token lists and any case", () => {
    const result = checkUpgradeRequest(
      request({
        upgrade: "h2c, WebSocket",
        connection: "keep-alive, UPGRADE",
        "sec-websocket-key": ` ${KEY} `,
      }),
    );
    assert.deepEqual(result, { ok: true, key: KEY, protocols: [], extensions: [] });
  });

  const failures: Array<[string, ReturnType<typeof request>, number, Record<string, string>?]> = [
    ["POST", request({}, "POST"), 405, { Allow: "GET" }],
    ["lower-case get", request({}, "get"), 405, { Allow: "GET" }],
    ["no Upgrade", request({ upgrade: undefined }), 400],
    ["Upgrade: h2c", request({ upgrade: "h2c" }), 400],
    ["Upgrade: websocketx", request({ upgrade: "websocketx" }), 400],
    ["no Connection", request({ connection: undefined }), 400],
    ["Connection: keep-alive", request({ connection: "keep-alive" }), 400],
    ["Connection: upgraded", request({ connection: "upgraded" }), 400],
    ["no Host", request({ host: undefined }), 400],
    ["empty Host", request({ host: " " }), 400],
    [
      "no version",
      request({ "sec-websocket-version": undefined }),
      426,
      { "Sec-WebSocket-Version": "13" },
    ],
    [
      "version 8",
      request({ "sec-websocket-version": "8" }),
      426,
      { "Sec-WebSocket-Version": "13" },
    ],
    [
      "version 13, 13",
      request({ "sec-websocket-version": "13, 13" }),
      426,
      { "Sec-WebSocket-Version": "13" },
    ],
    ["no key", request({ "sec-websocket-key": undefined }), 400],
    ["empty key", request({ "sec-websocket-key": "" }), 400],
    ["15-byte key", request({ "sec-websocket-key": Buffer.alloc(15).toString("base64") }), 400],
    ["17-byte key", request({ "sec-websocket-key": Buffer.alloc(17).toString("base64") }), 400],
    ["key not base64", request({ "sec-websocket-key": "!!!!!!!!!!!!!!!!!!!!!!==" }), 400],
    ["key unpadded", request({ "sec-websocket-key": KEY.slice(0, 22) }), 400],
    ["two keys joined", request({ "sec-websocket-key": `${KEY}, ${KEY}` }), 400],
    ["key array", request({ "sec-websocket-key": [KEY, KEY] }), 400],
    ["duplicate protocols", request({ "sec-websocket-protocol": "chat, chat" }), 400],
    ["protocol not a token", request({ "sec-websocket-protocol": "chat, sup@r" }), 400],
    ["empty protocol list", request({ "sec-websocket-protocol": " , " }), 400],
    ["bad extensions", request({ "sec-websocket-extensions": "permessage-deflate;" }), 400],
  ];
  for (const [name, req, status, headers] of failures) {
    it(`rejects ${name} with ${status}`, () => {
      const result = checkUpgradeRequest(req);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.status, status);
        assert.ok(result.message.length > 0);
        assert.deepEqual(result.headers, headers);
      }
    });
  }

  it("joins repeated list headers", () => {
    const result = checkUpgradeRequest(
      request({
        "sec-websocket-protocol": ["a", "b"],
        "sec-websocket-extensions": ["x", "y; z=1"],
      }),
    );
    assert.equal(result.ok, true);
    if (result.ok) {
      assert.deepEqual(result.protocols, ["a", "b"]);
      assert.deepEqual(
        result.extensions.map((e) => e.name),
        ["x", "y"],
      );
    }
  });
});

describe("subprotocol lists", () => {
  const table: Array<[string, string[] | null]> = [
    ["chat", ["chat"]],
    ["chat, superchat", ["chat", "superchat"]],
    ["chat,superchat", ["chat", "superchat"]],
    ["  a ,\tb  ", ["a", "b"]],
    ["a,,b", ["a", "b"]],
    ["Chat, chat", ["Chat", "chat"]],
    ["", null],
    [",", null],
    ["chat, chat", null],
    ["a b", null],
    ["a;b", null],
    ["a/1", null],
    ["\u00e9", null],
  ];
  for (const [value, expected] of table) {
    it(`parses ${JSON.stringify(value)}`, () => {
      assert.deepEqual(parseSubprotocols(value), expected);
    });
  }
});

describe("response heads", () => {
  it("formats the RFC 101 response", () => {
    assert.equal(
      formatAcceptResponse({ key: KEY, protocol: "chat" }),
      "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        "Sec-WebSocket-Protocol: chat\r\n" +
        "\r\n",
    );
  });

  it("adds extensions and extra headers", () => {
    const head = formatAcceptResponse({
      key: KEY,
      protocol: "",
      extensions: "permessage-deflate",
      headers: { "Set-Cookie": ["a=1", "b=2"], "X-Id": "7" },
    });
    assert.equal(
      head,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n` +
        "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Id: 7\r\n\r\n",
    );
  });

  it("refuses header injection from application headers", () => {
    assert.throws(
      () => formatAcceptResponse({ key: KEY, headers: { "X-A": "1\r\nX-B: 2" } }),
      TypeError,
    );
    assert.throws(() => formatAcceptResponse({ key: KEY, headers: { "X A": "1" } }), TypeError);
    assert.throws(() => formatHttpError(400, "no", { "X-A": "\n" }), TypeError);
  });

  it("formats an HTTP error with a UTF-8 length", () => {
    assert.equal(
      formatHttpError(426, "Unsupported version ✓", { "Sec-WebSocket-Version": "13" }),
      "HTTP/1.1 426 Upgrade Required\r\n" +
        "Connection: close\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Length: 23\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "\r\n" +
        "Unsupported version ✓",
    );
    assert.match(
      formatHttpError(405, "x", { Allow: "GET" }),
      /^HTTP\/1\.1 405 Method Not Allowed\r\n/,
    );
    assert.match(
      formatHttpError(499, ""),
      /^HTTP\/1\.1 499 Client Error\r\n[\s\S]*Content-Length: 0\r\n\r\n$/,
    );
  });
});

describe("client response checks", () => {
  const good: Headers = {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-accept": ACCEPT,
  };
  const expected = {
    key: KEY,
    protocols: ["chat", "superchat"],
    offeredExtensions: ["permessage-deflate"],
  };

  it("accepts the RFC example response", () => {
    assert.deepEqual(
      checkServerResponse(
        { statusCode: 101, headers: { ...good, "sec-websocket-protocol": "chat" } },
        expected,
      ),
      { ok: true, protocol: "chat", extensions: [] },
    );
  });

  it("accepts no subprotocol even when some were offered", () => {
    assert.deepEqual(checkServerResponse({ statusCode: 101, headers: good }, expected), {
      ok: true,
      protocol: "",
      extensions: [],
    });
  });

  it("accepts case variants and returns extensions", () => {
    const result = checkServerResponse(
      {
        statusCode: 101,
        headers: {
          upgrade: "WebSocket",
          connection: "keep-alive, upgrade",
          "sec-websocket-accept": ACCEPT,
          "sec-websocket-extensions": "permessage-deflate; server_no_context_takeover",
        },
      },
      expected,
    );
    assert.deepEqual(result, {
      ok: true,
      protocol: "",
      extensions: [
        {
          name: "permessage-deflate",
          params: [{ name: "server_no_context_takeover", value: true }],
        },
      ],
    });
  });

  const failures: Array<[string, number, Headers, typeof expected?]> = [
    ["status 200", 200, good],
    ["status 302", 302, good],
    ["no Upgrade", 101, { ...good, upgrade: undefined }],
    ["Upgrade: h2c", 101, { ...good, upgrade: "h2c" }],
    ["no Connection", 101, { ...good, connection: undefined }],
    ["Connection: close", 101, { ...good, connection: "close" }],
    ["no Accept", 101, { ...good, "sec-websocket-accept": undefined }],
    ["wrong Accept", 101, { ...good, "sec-websocket-accept": computeAcceptKey("other") }],
    ["protocol not offered", 101, { ...good, "sec-websocket-protocol": "other" }],
    ["two protocols", 101, { ...good, "sec-websocket-protocol": "chat, superchat" }],
    ["empty protocol", 101, { ...good, "sec-websocket-protocol": "" }],
    [
      "protocol when none offered",
      101,
      { ...good, "sec-websocket-protocol": "chat" },
      { key: KEY, protocols: [], offeredExtensions: [] },
    ],
    ["extension not offered", 101, { ...good, "sec-websocket-extensions": "x-foo" }],
    [
      "extension twice",
      101,
      { ...good, "sec-websocket-extensions": "permessage-deflate, permessage-deflate" },
    ],
    ["extension syntax", 101, { ...good, "sec-websocket-extensions": "permessage-deflate;;" }],
  ];
  for (const [name, statusCode, headers, exp] of failures) {
    it(`rejects ${name}`, () => {
      const result = checkServerResponse({ statusCode, headers }, exp ?? expected);
      assert.equal(result.ok, false);
      if (!result.ok) assert.ok(result.message.length > 0);
    });
  }
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64 } from "../../../src/protocol/base64.js";
import {
  type ClientRequestParams,
  checkNegotiation,
  checkServerResponse,
  checkUpgradeRequest,
  computeAcceptKey,
  formatAcceptResponse,
  formatClientRequestHeaders,
  formatExtendedConnectHeaders,
  formatHttpError,
  generateClientKey,
  type Headers,
  parseSubprotocols,
  requestTarget,
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

describe("client request headers", () => {
  const offer: ClientRequestParams = {
    url: new URL("ws://server.example.com/chat"),
    protocols: ["chat", "superchat"],
    extensions: "permessage-deflate; client_max_window_bits",
    origin: "http://example.com",
    headers: undefined,
  };

  it("formats the RFC 6455 section 1.2 example request's fields", () => {
    assert.deepEqual(
      Object.entries(formatClientRequestHeaders({ ...offer, extensions: "" }, KEY)),
      [
        ["Connection", "Upgrade"],
        ["Upgrade", "websocket"],
        ["Sec-WebSocket-Key", KEY],
        ["Sec-WebSocket-Version", "13"],
        ["Origin", "http://example.com"],
        ["Sec-WebSocket-Protocol", "chat, superchat"],
        ["Host", "server.example.com"],
      ],
    );
  });

  it("sends the extension offer as given", () => {
    assert.equal(
      formatClientRequestHeaders(offer, KEY)["Sec-WebSocket-Extensions"],
      "permessage-deflate; client_max_window_bits",
    );
  });

  it("sends no Origin, Sec-WebSocket-Protocol or Sec-WebSocket-Extensions with nothing to offer", () => {
    const headers = formatClientRequestHeaders(
      { ...offer, protocols: [], extensions: "", origin: undefined },
      KEY,
    );
    assert.deepEqual(Object.keys(headers), [
      "Connection",
      "Upgrade",
      "Sec-WebSocket-Key",
      "Sec-WebSocket-Version",
      "Host",
    ]);
  });

  it("Host carries the port only when it is not the scheme's default", () => {
    const host = (url: string) =>
      formatClientRequestHeaders({ ...offer, url: new URL(url) }, KEY).Host;
    assert.equal(host("ws://a.example:80/"), "a.example");
    assert.equal(host("ws://a.example:443/"), "a.example:443");
    assert.equal(host("wss://a.example:443/"), "a.example");
    assert.equal(host("wss://a.example:8443/"), "a.example:8443");
    assert.equal(host("ws://[::1]:8080/"), "[::1]:8080");
    assert.equal(host("ws://B\u00fccher.example/"), "xn--bcher-kva.example");
  });

  it("merges the application's headers first, the handshake's replacing theirs in any case", () => {
    const headers = formatClientRequestHeaders(
      {
        ...offer,
        headers: {
          "X-Custom": "yes",
          connection: "keep-alive",
          "SEC-WEBSOCKET-KEY": "mine",
          origin: "http://elsewhere.example",
          "x-custom": ["a", "b"],
          "X-Count": 3,
          "X-Unset": undefined,
        },
      },
      KEY,
    );
    assert.deepEqual(Object.entries(headers), [
      // The application's own repeats are Node's to merge (the last wins), as with ws.
      ["X-Custom", "yes"],
      ["x-custom", ["a", "b"]],
      ["X-Count", 3],
      // Passed on as given: the HTTP layer refuses it, as it does for ws.
      ["X-Unset", undefined],
      ["Connection", "Upgrade"],
      ["Upgrade", "websocket"],
      ["Sec-WebSocket-Key", KEY],
      ["Sec-WebSocket-Version", "13"],
      ["Origin", "http://example.com"],
      ["Sec-WebSocket-Protocol", "chat, superchat"],
      ["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"],
      ["Host", "server.example.com"],
    ]);
  });

  it("keeps the application's Host, subprotocol and extension headers when it offers none", () => {
    const headers = formatClientRequestHeaders(
      {
        ...offer,
        protocols: [],
        extensions: "",
        origin: undefined,
        headers: {
          host: "virtual.example",
          "Sec-WebSocket-Protocol": "raw",
          "Sec-WebSocket-Extensions": "x-mine",
          Origin: "http://app.example",
        },
      },
      KEY,
    );
    assert.deepEqual(Object.entries(headers), [
      ["host", "virtual.example"],
      ["Sec-WebSocket-Protocol", "raw"],
      ["Sec-WebSocket-Extensions", "x-mine"],
      ["Origin", "http://app.example"],
      ["Connection", "Upgrade"],
      ["Upgrade", "websocket"],
      ["Sec-WebSocket-Key", KEY],
      ["Sec-WebSocket-Version", "13"],
    ]);
  });

  it("the request target is the path (at least /) and the query, without the fragment", () => {
    assert.equal(requestTarget(new URL("ws://a.example")), "/");
    assert.equal(requestTarget(new URL("ws://a.example/p/q?x=1&y")), "/p/q?x=1&y");
    assert.equal(requestTarget(new URL("ws://a.example/p?")), "/p");
    assert.equal(requestTarget(new URL("ws://a.example/a b")), "/a%20b");
  });
});

describe("client extended CONNECT headers (RFC 8441)", () => {
  const offer: ClientRequestParams = {
    url: new URL("wss://server.example.com/chat"),
    protocols: ["chat", "superchat"],
    extensions: "permessage-deflate",
    origin: "http://www.example.com",
    headers: undefined,
  };

  it("formats the RFC 8441 section 5.1 example request's fields", () => {
    assert.deepEqual(Object.entries(formatExtendedConnectHeaders(offer)), [
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "https"],
      [":authority", "server.example.com"],
      [":path", "/chat"],
      ["sec-websocket-version", "13"],
      ["origin", "http://www.example.com"],
      ["sec-websocket-protocol", "chat, superchat"],
      ["sec-websocket-extensions", "permessage-deflate"],
    ]);
  });

  it(":authority carries a port that is not the default, :path the query", () => {
    const headers = formatExtendedConnectHeaders({
      ...offer,
      url: new URL("wss://server.example.com:8443/chat?room=1"),
    });
    assert.equal(headers[":authority"], "server.example.com:8443");
    assert.equal(headers[":path"], "/chat?room=1");
  });

  it("ws: is the http scheme; nothing to offer sends only the version", () => {
    assert.deepEqual(
      Object.entries(
        formatExtendedConnectHeaders({
          ...offer,
          url: new URL("ws://a.example"),
          protocols: [],
          extensions: "",
          origin: undefined,
        }),
      ),
      [
        [":method", "CONNECT"],
        [":protocol", "websocket"],
        [":scheme", "http"],
        [":authority", "a.example"],
        [":path", "/"],
        ["sec-websocket-version", "13"],
      ],
    );
  });

  it("lower-cases the application's headers, leaves out those HTTP/2 does not carry", () => {
    const headers = formatExtendedConnectHeaders({
      ...offer,
      protocols: [],
      extensions: "",
      origin: undefined,
      headers: {
        "X-Custom": "yes",
        Connection: "keep-alive",
        Upgrade: "websocket",
        "Keep-Alive": "timeout=5",
        "Proxy-Connection": "keep-alive",
        "Transfer-Encoding": "chunked",
        Host: "virtual.example",
        "Sec-WebSocket-Key": KEY,
        "X-Unset": undefined,
        Authorization: "Bearer t",
        ":authority": "spoofed.example",
        "SEC-WEBSOCKET-VERSION": "8",
      },
    });
    assert.deepEqual(Object.entries(headers), [
      ["x-custom", "yes"],
      ["authorization", "Bearer t"],
      // Set after the application's, so that none of those can stand in for them.
      [":authority", "server.example.com"],
      ["sec-websocket-version", "13"],
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "https"],
      [":path", "/chat"],
    ]);
  });
});

describe("client negotiation checks (both HTTP versions)", () => {
  const expected = { protocols: ["chat"], offeredExtensions: ["permessage-deflate"] };

  it("accepts the chosen subprotocol and the offered extension", () => {
    assert.deepEqual(
      checkNegotiation(
        {
          "sec-websocket-protocol": " chat ",
          "sec-websocket-extensions": ["permessage-deflate", ""],
        },
        expected,
      ),
      { ok: true, protocol: "chat", extensions: [{ name: "permessage-deflate", params: [] }] },
    );
  });

  const refused: Array<[string, Headers, string]> = [
    [
      "a subprotocol not offered",
      { "sec-websocket-protocol": "superchat" },
      "Server sent an invalid subprotocol",
    ],
    [
      "an extension not offered",
      { "sec-websocket-extensions": "x-webkit-deflate-frame" },
      "Server indicated an extension that was not requested: x-webkit-deflate-frame",
    ],
    [
      "an extension twice, in two fields",
      { "sec-websocket-extensions": ["permessage-deflate", "permessage-deflate"] },
      "Server indicated extension permessage-deflate more than once",
    ],
  ];
  for (const [name, headers, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(checkNegotiation(headers, expected), { ok: false, message });
    });
  }

  it("refuses a subprotocol when none was offered", () => {
    assert.deepEqual(
      checkNegotiation(
        { "sec-websocket-protocol": "chat" },
        { protocols: [], offeredExtensions: [] },
      ),
      { ok: false, message: "Server sent a subprotocol but none was requested" },
    );
  });
});

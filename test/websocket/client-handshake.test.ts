/**
 * The client's opening handshake: request headers, subprotocol and extension checks of the
 * response, refusals (error then close 1006, or `unexpected-response`), redirects, the handshake
 * timeout, and wss:// with TLS options.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "../../src/websocket/websocket.js";
import { acceptKey, nextEvent, type RawServer, startRawServer } from "./websocket-test-helpers.js";

/** Waits for the close event of a connection that must fail; returns what was seen. */
async function failure(
  ws: WebSocket,
): Promise<{ error: Error | null; states: number[]; code: number }> {
  let error: Error | null = null;
  const states: number[] = [];
  ws.on("error", (e) => {
    error = e;
    states.push(ws.readyState);
  });
  ws.on("open", () => assert.fail("must not open"));
  const [code] = await nextEvent<[number]>(ws, "close", 10000);
  states.push(ws.readyState);
  return { error, states, code };
}

let server: RawServer;
/** Per-path behaviour of the raw server. */
before(async () => {
  server = await startRawServer((request, socket) => {
    const url = new URL(request.url ?? "/", "http://x");
    const pick = url.searchParams.get("pick");
    const headers: string[] = [];
    if (pick) headers.push(`Sec-WebSocket-Protocol: ${pick}`);
    switch (url.pathname) {
      case "/bad-accept":
        return { accept: acceptKey("somebody else's key") };
      case "/extension":
        return { headers: ["Sec-WebSocket-Extensions: permessage-deflate"] };
      case "/bad-deflate":
        return {
          headers: ["Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99"],
        };
      case "/forbidden":
        socket.end(
          "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nConnection: close\r\n\r\nnope!\n",
        );
        return null;
      case "/silent":
        return null;
      case "/redirect":
        socket.end(
          `HTTP/1.1 302 Found\r\nLocation: ${url.searchParams.get("to")}\r\nContent-Length: 0\r\n\r\n`,
        );
        return null;
      case "/loop":
        socket.end("HTTP/1.1 301 Moved\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        return null;
      default:
        return { headers };
    }
  });
});
after(() => server.close());

describe("request", () => {
  test("upgrade headers, extra headers, origin, deflate offer, basic auth from the URL", async () => {
    const ws = new WebSocket(`ws://user:p%40ss@127.0.0.1:${server.port}/path?x=1`, {
      headers: { "X-Custom": "yes" },
      origin: "https://example.com",
    });
    const connection = await server.nextConnection();
    const headers = connection.request.headers;
    assert.equal(connection.request.url, "/path?x=1");
    assert.equal(headers["sec-websocket-version"], "13");
    assert.equal(Buffer.from(String(headers["sec-websocket-key"]), "base64").length, 16);
    assert.equal(headers.upgrade, "websocket");
    assert.equal(headers["x-custom"], "yes");
    assert.equal(headers.origin, "https://example.com");
    assert.equal(headers["sec-websocket-extensions"], "permessage-deflate; client_max_window_bits");
    assert.equal(headers.authorization, `Basic ${Buffer.from("user:p@ss").toString("base64")}`);
    await nextEvent(ws, "open");
    assert.equal(ws.extensions, "", "the raw server accepted no extension");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("Host: the URL's host, the application's if it sets one, no default port (as ws)", async () => {
    const hosts: unknown[] = [];
    const cases: Array<[string, ConstructorParameters<typeof WebSocket>[1]]> = [
      [server.url, {}],
      [server.url, { headers: { host: "virtual.example" } }],
      // Over a connection of the application's, the port the URL leaves out is the default one.
      ["ws://localhost/", { createConnection: () => connect(server.port, "127.0.0.1") }],
    ];
    for (const [url, options] of cases) {
      const ws = new WebSocket(url, options);
      hosts.push((await server.nextConnection()).request.headers.host);
      await nextEvent(ws, "open");
      ws.terminate();
      await nextEvent(ws, "close");
    }
    assert.deepEqual(hosts, [`127.0.0.1:${server.port}`, "virtual.example", "localhost"]);
  });

  test("perMessageDeflate: false offers no extension", async () => {
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    const connection = await server.nextConnection();
    assert.equal(connection.request.headers["sec-websocket-extensions"], undefined);
    await nextEvent(ws, "open");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("upgrade event with the response comes before open", async () => {
    const ws = new WebSocket(server.url);
    const order: string[] = [];
    ws.on("upgrade", (response: IncomingMessage) => order.push(`upgrade:${response.statusCode}`));
    ws.on("open", () => order.push("open"));
    await nextEvent(ws, "open");
    assert.deepEqual(order, ["upgrade:101", "open"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("response checks", () => {
  test("the subprotocol the server picked from the offer", async () => {
    const ws = new WebSocket(`${server.url}/?pick=chat`, ["superchat", "chat"]);
    await nextEvent(ws, "open");
    assert.equal(ws.protocol, "chat");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("a subprotocol that was not offered fails the connection", async () => {
    const result = await failure(new WebSocket(`${server.url}/?pick=other`, ["chat"]));
    assert.match(result.error?.message ?? "", /subprotocol/i);
    assert.equal(result.code, 1006);
    assert.deepEqual(result.states, [3, 3]);
  });

  test("a subprotocol when none was offered fails the connection", async () => {
    const result = await failure(new WebSocket(`${server.url}/?pick=chat`));
    assert.match(result.error?.message ?? "", /subprotocol/i);
  });

  test("a wrong Sec-WebSocket-Accept fails the connection", async () => {
    const result = await failure(new WebSocket(`${server.url}/bad-accept`));
    assert.match(result.error?.message ?? "", /Accept/);
  });

  test("an extension that was not offered fails the connection", async () => {
    const result = await failure(
      new WebSocket(`${server.url}/extension`, { perMessageDeflate: false }),
    );
    assert.match(result.error?.message ?? "", /extension/i);
  });

  test("out-of-range perMessageDeflate options fail the connection instead of throwing", async () => {
    const result = await failure(
      new WebSocket(`${server.url}/extension`, { perMessageDeflate: { threshold: -1 } }),
    );
    assert.match(result.error?.message ?? "", /threshold/);
  });

  test("invalid permessage-deflate parameters fail the connection", async () => {
    const result = await failure(new WebSocket(`${server.url}/bad-deflate`));
    assert.match(result.error?.message ?? "", /permessage-deflate/);
  });

  test("a non-101 response: error naming the status, then close 1006", async () => {
    const ws = new WebSocket(`${server.url}/forbidden`);
    const browserEvents: string[] = [];
    ws.onerror = () => browserEvents.push("error");
    ws.onclose = (event) => browserEvents.push(`close:${event.code}:${event.wasClean}`);
    const result = await failure(ws);
    assert.match(result.error?.message ?? "", /403/);
    assert.deepEqual(browserEvents, ["error", "close:1006:false"]);
  });

  test("with an unexpected-response listener the application reads the response, no error", async () => {
    const ws = new WebSocket(`${server.url}/forbidden`);
    let body = "";
    let errors = 0;
    ws.on("error", () => errors++);
    ws.on("unexpected-response", (request, response) => {
      assert.equal(typeof request.setHeader, "function");
      assert.equal(response.statusCode, 403);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
    });
    const [code] = await nextEvent<[number]>(ws, "close");
    assert.equal(code, 1006);
    assert.equal(body, "nope!\n");
    assert.equal(errors, 0);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test("connection refused: error then close 1006", async () => {
    const probe = createHttpsServer();
    probe.listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assert.match(result.error?.message ?? "", /ECONNREFUSED/);
    assert.equal(result.code, 1006);
  });

  test("terminate while CONNECTING: error then close, no open", async () => {
    const ws = new WebSocket(`${server.url}/silent`);
    const seen: string[] = [];
    ws.on("error", () => seen.push("error"));
    ws.on("close", (code) => seen.push(`close:${code}`));
    ws.terminate();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await nextEvent(ws, "close");
    assert.deepEqual(seen, ["error", "close:1006"]);
  });
});

describe("redirects", () => {
  test("followed when followRedirects is set; url reflects the target", async () => {
    const ws = new WebSocket(`${server.url}/redirect?to=/final%3Fpick%3Dchat`, ["chat"], {
      followRedirects: true,
    });
    await nextEvent(ws, "open");
    assert.equal(ws.url, `${server.url}/final?pick=chat`);
    assert.equal(ws.protocol, "chat");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("not followed by default: the 302 is an unexpected response", async () => {
    const result = await failure(new WebSocket(`${server.url}/redirect?to=/final`));
    assert.match(result.error?.message ?? "", /302/);
  });

  test("bounded by maxRedirects", async () => {
    const result = await failure(
      new WebSocket(`${server.url}/loop`, { followRedirects: true, maxRedirects: 3 }),
    );
    assert.match(result.error?.message ?? "", /redirects/i);
  });

  test("credentials are not sent to another host", async () => {
    const target = `ws://localhost:${server.port}/other`;
    const ws = new WebSocket(`${server.url}/redirect?to=${encodeURIComponent(target)}`, {
      followRedirects: true,
      headers: { Authorization: "Bearer secret", "X-Keep": "1" },
    });
    // The refused /redirect request never becomes a connection: the first one is the target.
    const last = await server.nextConnection();
    await nextEvent(ws, "open");
    assert.equal(last.request.url, "/other");
    assert.equal(last.request.headers.authorization, undefined);
    assert.equal(last.request.headers["x-keep"], "1");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("an http: Location is mapped to ws:", async () => {
    const target = `http://127.0.0.1:${server.port}/mapped`;
    const ws = new WebSocket(`${server.url}/redirect?to=${encodeURIComponent(target)}`, {
      followRedirects: true,
    });
    await nextEvent(ws, "open");
    assert.equal(ws.url, `ws://127.0.0.1:${server.port}/mapped`);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("timeout", () => {
  test("handshakeTimeout: a silent server fails the connection", async () => {
    const result = await failure(new WebSocket(`${server.url}/silent`, { handshakeTimeout: 100 }));
    assert.match(result.error?.message ?? "", /timed out/);
    assert.equal(result.code, 1006);
  });
});

describe("wss", () => {
  const cert = readFileSync(new URL("../fixtures/tls/localhost-cert.pem", import.meta.url));
  const key = readFileSync(new URL("../fixtures/tls/localhost-key.pem", import.meta.url));
  const tls = createHttpsServer({ cert, key });
  let port = 0;
  before(async () => {
    tls.on("upgrade", (request: IncomingMessage, socket) => {
      socket.on("error", () => {});
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${acceptKey(String(request.headers["sec-websocket-key"]))}\r\n\r\n`,
      );
      // A text frame "secure" straight away.
      socket.write(Buffer.concat([Buffer.from([0x81, 6]), Buffer.from("secure")]));
    });
    tls.listen(0, "127.0.0.1");
    await once(tls, "listening");
    port = (tls.address() as AddressInfo).port;
  });
  after(() => {
    tls.closeAllConnections();
    return new Promise<void>((resolve) => tls.close(() => resolve()));
  });

  test("connects with the ca option and exchanges data", async () => {
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: cert });
    const [data] = await nextEvent<[Buffer]>(ws, "message");
    assert.equal(data.toString(), "secure");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("an untrusted certificate fails the connection", async () => {
    const result = await failure(new WebSocket(`wss://localhost:${port}/`));
    assert.match(result.error?.message ?? "", /self.signed|certificate/i);
  });

  test("rejectUnauthorized: false accepts it", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
    const [data] = await nextEvent<[Buffer]>(ws, "message");
    assert.equal(data.toString(), "secure");
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

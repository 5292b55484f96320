/**
 * What the Node client's connection errors say (duplexio's messages; socket.io-client only says
 * "xhr poll error" or "websocket error"): a wrong `path` is a 404 with the hint to check `path`, a
 * wrong port is ECONNREFUSED with the address, a refusal passes on the HTTP status and the
 * server's reason (a polling request refused with 403, a WebSocket upgrade refused with 400), a
 * server that is no Socket.IO server is named, with the structured fields (`status`, `url`,
 * `reason`) set for refusals. Against duplexio's and the official socket.io server.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { TransportError } from "../../../src/client/node.js";
import { closedPort } from "../../cli/helpers.js";
import { clientIsOfficial, io } from "../behaviour/client-under-test.js";
import { type ClientOptions, SERVER_KINDS } from "../behaviour/harness.js";
import { type OptionsServer, outcome, startOptionsServer } from "./servers.js";

const skip = clientIsOfficial && "duplexio's messages";

/** The connect_error of a client of `url` with `options` (the attempt must fail). */
async function failure(url: string, options: ClientOptions): Promise<TransportError> {
  const client = io(url, { forceNew: true, reconnection: false, ...options });
  try {
    const result = await outcome(client);
    assert.equal(result.connected, false, "the connection was accepted");
    return (result as { error: Error }).error as TransportError;
  } finally {
    client.disconnect();
  }
}

for (const kind of SERVER_KINDS) {
  describe(`connection errors name what went wrong [against ${kind.name}]`, { skip }, () => {
    let server: OptionsServer;
    let refusing: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind);
      refusing = await startOptionsServer(kind, {
        io: { allowRequest: (_request, callback) => callback("no entry without a token", false) },
      });
    });
    after(async () => {
      await server?.close();
      await refusing?.close();
    });

    it("a wrong path: HTTP 404 with the hint to check path (polling)", async () => {
      const error = await failure(server.url, { path: "/sockets", transports: ["polling"] });
      assert.equal(
        error.message,
        `fetch read error: ${server.url}/sockets/ answered HTTP 404 Not Found (check the "path" option: no Socket.IO server answers there)`,
      );
      assert.equal(error.type, "TransportError");
      assert.equal(error.status, 404);
      assert.equal(error.description, 404);
      assert.equal(error.url, `${server.url}/sockets/`);
    });

    it("a wrong path over WebSocket names the endpoint that hung up", async () => {
      const error = await failure(server.url, { path: "/sockets", transports: ["websocket"] });
      assert.equal(
        error.message,
        `websocket error: socket hang up (ws://127.0.0.1:${server.port}/sockets/)`,
      );
    });

    it("a polling request refused (allowRequest): HTTP 403 and the server's reason", async () => {
      const error = await failure(refusing.url, { transports: ["polling"] });
      assert.equal(
        error.message,
        `fetch read error: ${refusing.url}/socket.io/ answered HTTP 403 Forbidden: no entry without a token`,
      );
      assert.equal(error.status, 403);
      assert.equal(error.reason, "no entry without a token");
    });

    it("a WebSocket upgrade refused with 400 passes the server's reason on", async () => {
      const error = await failure(refusing.url, { transports: ["websocket"] });
      const endpoint = `ws://127.0.0.1:${refusing.port}/socket.io/`;
      assert.equal(
        error.message,
        `websocket error: ${endpoint} answered HTTP 400 Bad Request: no entry without a token`,
      );
      assert.equal(error.status, 400);
      assert.equal(error.url, endpoint);
      assert.equal(error.reason, "no entry without a token");
    });
  });
}

describe("connection errors without a Socket.IO server", { skip }, () => {
  let plain: Server;
  let plainUrl: string;
  before(async () => {
    plain = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" }).end("<h1>hello</h1>");
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(() => {
    plain.closeAllConnections();
    plain.close();
  });

  it("a wrong port: ECONNREFUSED with the address, on both transports", async () => {
    const port = await closedPort();
    const polling = await failure(`http://127.0.0.1:${port}`, { transports: ["polling"] });
    assert.equal(
      polling.message,
      `fetch read error: connect ECONNREFUSED 127.0.0.1:${port} (http://127.0.0.1:${port}/socket.io/)`,
    );
    assert.equal(polling.status, undefined);
    assert.equal((polling.description as { code?: string }).code, "ECONNREFUSED");
    const websocket = await failure(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    assert.equal(
      websocket.message,
      `websocket error: connect ECONNREFUSED 127.0.0.1:${port} (ws://127.0.0.1:${port}/socket.io/)`,
    );
  });

  it("a plain web server: its HTML is no Engine.IO handshake, and it does not upgrade", async () => {
    const polling = await failure(plainUrl, { transports: ["polling"] });
    assert.equal(
      polling.message,
      `connection closed while opening: parse error (${plainUrl}/socket.io/ answered HTTP 200 with something that is not Engine.IO (packet 0: unknown packet type))`,
    );
    const websocket = await failure(plainUrl, { transports: ["websocket"] });
    const endpoint = plainUrl.replace("http:", "ws:");
    assert.equal(websocket.message, `websocket error: ${endpoint}/socket.io/ answered HTTP 200 OK`);
    assert.equal(websocket.status, 200);
    assert.equal(websocket.reason, undefined, "an HTML page is no reason");
  });
});

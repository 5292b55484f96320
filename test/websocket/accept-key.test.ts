/**
 * The handshake's `Sec-WebSocket-Accept` on Node (node:crypto's SHA-1, Buffer's base64) against
 * RFC 6455's example and the protocol layer's pure SHA-1/base64, and the server and the Node
 * client completing handshakes with it against ws.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, it } from "node:test";
import WebSocketWs, { WebSocketServer as WsServer } from "ws";
import {
  checkServerResponse,
  computeAcceptKey,
  formatAcceptResponse,
} from "../../src/protocol/websocket/handshake.js";
import { nodeAcceptKey } from "../../src/websocket/accept-key.js";
import { WebSocket, WebSocketServer } from "../../src/websocket/index.js";

describe("Sec-WebSocket-Accept on Node", () => {
  it("gives RFC 6455's example and agrees with the pure implementation", () => {
    // RFC 6455 section 1.3.
    assert.equal(nodeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(16).toString("base64");
      assert.equal(nodeAcceptKey(key), computeAcceptKey(key), key);
    }
  });

  it("is what the protocol layer's response head and check use when given", () => {
    const calls: string[] = [];
    const spy = (key: string) => {
      calls.push(key);
      return nodeAcceptKey(key);
    };
    const head = formatAcceptResponse({ key: "dGhlIHNhbXBsZSBub25jZQ==" }, spy);
    assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    const check = checkServerResponse(
      {
        statusCode: 101,
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        },
      },
      { key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: [], offeredExtensions: [] },
      spy,
    );
    assert.equal(check.ok, true);
    assert.deepEqual(calls, ["dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="]);
  });

  it("completes handshakes with ws in both roles", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    server.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
    const wsClient = new WebSocketWs(`ws://127.0.0.1:${port}`);
    await once(wsClient, "open");
    wsClient.close();

    const wsServer = new WsServer({ port: 0, host: "127.0.0.1" });
    await once(wsServer, "listening");
    const client = new WebSocket(`ws://127.0.0.1:${(wsServer.address() as { port: number }).port}`);
    await once(client, "open");
    client.close();
    await once(client, "close");
    await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

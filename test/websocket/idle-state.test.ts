/**
 * What an idle server connection holds (issue 10): the receiver, sender and write queue are made
 * at the first bytes in or out, and dropped by the server's periodic look when the connection was
 * quiet since the previous one and nothing is under way in them. Dropping and remaking them must
 * change nothing a peer or the application can see: messages, fragments cut by a look, pauses,
 * pings, bufferedAmount.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WebSocket as WsClient } from "ws";
import { type WebSocket, WebSocketServer } from "../../src/websocket/index.js";
import { closeWss, delay, roundTrip, withTimeout, wssPort } from "./server-helpers.js";

/** Two looks in a row: the first clears the activity mark, the second drops what is at rest. */
function shed(ws: WebSocket): void {
  ws._shedIdleState();
  ws._shedIdleState();
}

async function pair(): Promise<{ wss: WebSocketServer; client: WsClient; server: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const port = await wssPort(wss);
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WsClient(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => client.once("open", resolve));
  return { wss, client, server: await accepted };
}

describe("idle state of a server connection", () => {
  it("echoes across looks that drop and remake the receiver and the sender", async () => {
    const { wss, client, server } = await pair();
    server.on("message", (data, isBinary) => server.send(data, { binary: isBinary }));
    shed(server);
    assert.equal(server.bufferedAmount, 0);
    for (let i = 0; i < 5; i++) {
      assert.equal(await roundTrip(client, `m${i}`), `m${i}`);
      shed(server);
    }
    client.close();
    await closeWss(wss);
  });

  it("a message whose fragments straddle a look arrives whole", async () => {
    const { wss, client, server } = await pair();
    const got = new Promise<string>((resolve) =>
      server.once("message", (data) => resolve(String(data))),
    );
    client.send("first half, ", { fin: false });
    await delay(30);
    shed(server);
    client.send("second half", { fin: true });
    assert.equal(await withTimeout(got, 2000, "message"), "first half, second half");
    client.close();
    await closeWss(wss);
  });

  it("a paused connection keeps its pause; pings are answered after a look", async () => {
    const { wss, client, server } = await pair();
    const received: string[] = [];
    server.on("message", (data) => received.push(String(data)));
    server.pause();
    shed(server);
    client.send("held");
    await delay(50);
    assert.deepEqual(received, []);
    assert.equal(server.isPaused, true);
    server.resume();
    await delay(50);
    assert.deepEqual(received, ["held"]);
    shed(server);
    const pong = new Promise((resolve) => client.once("pong", resolve));
    client.ping("p");
    await withTimeout(pong, 2000, "pong");
    client.close();
    await closeWss(wss);
  });

  it("a close after a look completes the closing handshake", async () => {
    const { wss, client, server } = await pair();
    shed(server);
    const closed = new Promise<number>((resolve) => client.once("close", resolve));
    server.close(4001, "bye");
    assert.equal(await withTimeout(closed, 2000, "close"), 4001);
    await closeWss(wss);
  });
});

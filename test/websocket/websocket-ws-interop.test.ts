/**
 * Interoperability with the `ws` package as the peer, both ways: our client against a ws
 * server, and a ws client against our server role (acceptWebSocket). Text, binary, empty and
 * 16 MiB messages, permessage-deflate in both directions (fragmented too), ping/pong,
 * subprotocols and close codes.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { WebSocket as WsClient, WebSocketServer as WsServer } from "ws";
import { WebSocket } from "../../src/websocket/websocket.js";
import {
  type AcceptServer,
  collectMessages,
  nextEvent,
  startAcceptServer,
} from "./websocket-test-helpers.js";

function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31) ^ (i >>> 9);
  return out;
}

describe("our client against a ws server", () => {
  let wss: WsServer;
  let url = "";
  const received: { data: Buffer; isBinary: boolean; compressed: boolean }[] = [];
  before(async () => {
    wss = new WsServer({
      host: "127.0.0.1",
      port: 0,
      perMessageDeflate: { threshold: 64 },
      maxPayload: 64 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has("v2") ? "v2" : false),
    });
    wss.on("connection", (socket, request) => {
      const deflate = request.headers["sec-websocket-extensions"] !== undefined;
      socket.on("message", (data, isBinary) => {
        received.push({ data: data as Buffer, isBinary, compressed: deflate });
        if (String(data) === "close-me") socket.close(4005, "as asked");
        else socket.send(data as Buffer, { binary: isBinary });
      });
      socket.on("ping", (data) => socket.send(`got ping ${data}`));
    });
    await once(wss, "listening");
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  for (const deflate of [false, true]) {
    test(`echo of text, binary, empty and fragmented messages (deflate ${deflate})`, async () => {
      const ws = new WebSocket(url, { perMessageDeflate: deflate });
      await nextEvent(ws, "open");
      assert.equal(ws.extensions.startsWith("permessage-deflate"), deflate);
      const long = "compressible ".repeat(500);
      const echoed = collectMessages(ws, 6);
      ws.send("hello ünïcödé");
      ws.send(Buffer.from([0, 1, 2, 255]));
      ws.send("");
      ws.send(long);
      ws.send(long.slice(0, 3000), { fin: false });
      ws.send(long.slice(3000, 5000), { fin: false });
      ws.send(long.slice(5000));
      ws.send(pattern(70_000));
      const messages = await echoed;
      assert.deepEqual(
        messages.map(([data, isBinary]) => [isBinary, (data as Buffer).length]),
        [
          [false, Buffer.byteLength("hello ünïcödé")],
          [true, 4],
          [false, 0],
          [false, long.length],
          [false, long.length],
          [true, 70_000],
        ],
      );
      assert.equal(String(messages[0][0]), "hello ünïcödé");
      assert.equal(String(messages[4][0]), long);
      assert.ok((messages[5][0] as Buffer).equals(pattern(70_000)));
      ws.close(1000);
      const [code] = await nextEvent<[number]>(ws, "close");
      assert.equal(code, 1000);
    });

    test(`16 MiB both ways (deflate ${deflate})`, async () => {
      const ws = new WebSocket(url, { perMessageDeflate: deflate });
      await nextEvent(ws, "open");
      const big = pattern(16 * 1024 * 1024);
      const echoed = collectMessages(ws, 1, 60000);
      ws.send(big);
      const [[data]] = await echoed;
      assert.ok((data as Buffer).equals(big));
      ws.close();
      await nextEvent(ws, "close");
    });
  }

  test("ping reaches ws; ws pings are answered", async () => {
    const ws = new WebSocket(url);
    await nextEvent(ws, "open");
    const reply = collectMessages(ws, 1);
    ws.ping("hi");
    assert.equal(String((await reply)[0][0]), "got ping hi");
    ws.close();
    await nextEvent(ws, "close");
  });

  test("subprotocol chosen by ws", async () => {
    const ws = new WebSocket(url, ["v1", "v2"]);
    await nextEvent(ws, "open");
    assert.equal(ws.protocol, "v2");
    ws.close();
    await nextEvent(ws, "close");
  });

  test("server-initiated close with a code and reason", async () => {
    const ws = new WebSocket(url);
    await nextEvent(ws, "open");
    let wasClean = false;
    ws.onclose = (event) => {
      wasClean = event.wasClean;
    };
    ws.send("close-me");
    const [code, reason] = await nextEvent<[number, Buffer]>(ws, "close");
    assert.equal(code, 4005);
    assert.equal(reason.toString(), "as asked");
    assert.equal(wasClean, true);
  });

  test("client close code and reason reach ws", async () => {
    const ws = new WebSocket(url);
    await nextEvent(ws, "open");
    const serverSide = new Promise<[number, string]>((resolve) => {
      for (const client of wss.clients) {
        client.once("close", (code, reason) => resolve([code, reason.toString()]));
      }
    });
    const closed = nextEvent(ws, "close");
    ws.close(4100, "client done");
    assert.deepEqual(await serverSide, [4100, "client done"]);
    await closed;
  });
});

describe("a ws client against our server role", () => {
  let server: AcceptServer;
  before(async () => {
    server = await startAcceptServer({
      deflate: { threshold: 64 },
      maxPayload: 64 * 1024 * 1024,
      onSocket: (ws) => {
        ws.on("message", (data, isBinary) => {
          if (String(data) === "close-me") ws.close(1011, "server error");
          else ws.send(data as Buffer, { binary: isBinary });
        });
      },
    });
  });
  after(() => server.close());

  for (const deflate of [false, true]) {
    test(`echo of text, binary, empty, large messages (deflate ${deflate})`, async () => {
      const client = new WsClient(server.url, { perMessageDeflate: deflate });
      await once(client, "open");
      assert.equal(client.extensions.includes("permessage-deflate"), deflate);
      const long = "squeeze me ".repeat(1000);
      const messages: [Buffer, boolean][] = [];
      const done = new Promise<void>((resolve) => {
        client.on("message", (data, isBinary) => {
          messages.push([data as Buffer, isBinary]);
          if (messages.length === 5) resolve();
        });
      });
      client.send("héllo");
      client.send(Buffer.from([9, 8, 7]));
      client.send("");
      client.send(long.slice(0, 5000), { fin: false });
      client.send(long.slice(5000));
      client.send(pattern(16 * 1024 * 1024));
      await done;
      assert.equal(messages[0][0].toString(), "héllo");
      assert.equal(messages[0][1], false);
      assert.deepEqual([...messages[1][0]], [9, 8, 7]);
      assert.equal(messages[1][1], true);
      assert.equal(messages[2][0].length, 0);
      assert.equal(messages[3][0].toString(), long);
      assert.ok(messages[4][0].equals(pattern(16 * 1024 * 1024)));
      client.close(1000, "bye");
      const [code] = await once(client, "close");
      assert.equal(code, 1000);
    });
  }

  test("our server's close code reaches ws; ws pings get pongs", async () => {
    const client = new WsClient(server.url);
    await once(client, "open");
    client.ping("beat");
    const [pong] = await once(client, "pong");
    assert.equal(String(pong), "beat");
    client.send("close-me");
    const [code, reason] = await once(client, "close");
    assert.equal(code, 1011);
    assert.equal(String(reason), "server error");
  });

  test("a ws client closing with a code is reported on our side", async () => {
    const socketPromise = server.nextSocket();
    const client = new WsClient(server.url);
    const ws = await socketPromise;
    await once(client, "open");
    const closed = nextEvent<[number, Buffer]>(ws, "close");
    client.close(4321, "later");
    const [code, reason] = await closed;
    assert.equal(code, 4321);
    assert.equal(reason.toString(), "later");
    await once(client, "close");
  });
});

/**
 * The upgrade from polling to WebSocket: the exact sequence on the wire (probe, noop to the
 * pending poll, upgrade, buffered packets moved over) and message order under load.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import {
  connectClient,
  once,
  poll,
  pollingHandshake,
  startServer,
  type TestServer,
  until,
  withTimeout,
} from "./helpers.js";

/** A raw WebSocket client recording every message (text as string, binary as bytes). */
async function rawWebSocket(
  port: number,
  query: string,
): Promise<{ ws: WebSocket; messages: (string | number[])[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/engine.io/?${query}`);
  const messages: (string | number[])[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    messages.push(isBinary ? [...data] : data.toString());
  });
  await once(ws, "open");
  return { ws, messages };
}

async function session(server: TestServer): Promise<{ sid: string; socket: EngineSocket }> {
  const connected = once<[EngineSocket]>(server.engine, "connection");
  const { sid } = await pollingHandshake(server.port);
  const [socket] = await connected;
  return { sid, socket };
}

describe("engine upgrade, on the wire", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 10_000, upgradeTimeout: 200 });
  });
  after(() => server.close());

  it("probe, noop to the pending poll, upgrade, then the buffered packets over WebSocket", async () => {
    const { sid, socket } = await session(server);
    const pending = poll(server.port, sid);
    const { ws, messages } = await rawWebSocket(
      server.port,
      `EIO=4&transport=websocket&sid=${sid}`,
    );
    const upgrading = once(socket, "upgrading");
    ws.send("2probe");
    await until(() => messages.length === 1, 2000, "3probe");
    assert.deepEqual(messages, ["3probe"]);
    await upgrading;
    assert.equal(socket.upgrading, true);
    // The pending poll is answered so that the client can pause polling.
    assert.equal((await pending).text, "6");
    assert.equal(socket.transport.name, "polling");

    // Sent while no poll is pending: they wait for the new transport.
    socket.send("a");
    socket.send(Buffer.from([1, 2]));
    const upgraded = once(socket, "upgrade");
    ws.send("5");
    await upgraded;
    assert.equal(socket.transport.name, "websocket");
    assert.equal(socket.upgraded, true);
    assert.equal(socket.upgrading, false);
    await until(() => messages.length === 3, 2000, "buffered packets");
    assert.deepEqual(messages, ["3probe", "4a", [1, 2]]);

    // Polling is over for this session.
    const late = await poll(server.port, sid);
    assert.equal(late.status, 400);
    assert.deepEqual(JSON.parse(late.text), { code: 3, message: "Bad request" });

    // Client messages now come over WebSocket.
    const got = once<[string]>(socket, "message");
    ws.send("4over ws");
    assert.deepEqual(await got, ["over ws"]);
    ws.close();
  });

  it("sends packets buffered on polling before the upgrade over polling, in order", async () => {
    const { sid, socket } = await session(server);
    const { ws, messages } = await rawWebSocket(
      server.port,
      `EIO=4&transport=websocket&sid=${sid}`,
    );
    ws.send("2probe");
    await until(() => messages.length === 1, 2000, "3probe");
    socket.send("one");
    socket.send("two");
    // A poll arriving during the probe takes what is buffered.
    assert.equal((await poll(server.port, sid)).text, "4one\x1e4two");
    socket.send("three");
    ws.send("5");
    await until(() => messages.length === 2, 2000, "three");
    assert.deepEqual(messages, ["3probe", "4three"]);
    ws.close();
  });

  it("closes a second WebSocket for the same session", async () => {
    const { sid } = await session(server);
    const first = await rawWebSocket(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    first.ws.send("2probe");
    await until(() => first.messages.length === 1, 2000, "3probe");
    const second = new WebSocket(
      `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    second.on("error", () => {});
    // Accepted, then closed (the protocol's rule), without a message or an upgrade of its own.
    const received: unknown[] = [];
    second.on("message", (data) => received.push(data));
    await once(second, "close", 3000);
    assert.deepEqual(received, []);
    first.ws.close();
  });

  it("closes a WebSocket that does not complete the upgrade within upgradeTimeout", async () => {
    const { sid, socket } = await session(server);
    const { ws } = await rawWebSocket(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    assert.equal(socket.upgrading, true);
    await once(ws, "close", 3000);
    assert.equal(socket.upgrading, false);
    assert.equal(socket.transport.name, "polling");
    assert.equal(socket.readyState, "open");
  });

  it("abandons the upgrade when the probing WebSocket sends anything else", async () => {
    const { sid, socket } = await session(server);
    const { ws } = await rawWebSocket(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    ws.send("4not a probe");
    await once(ws, "close", 3000);
    assert.equal(socket.transport.name, "polling");
    assert.equal(socket.readyState, "open");
  });

  it("closes the probing WebSocket when the session closes", async () => {
    const { sid, socket } = await session(server);
    const { ws } = await rawWebSocket(server.port, `EIO=4&transport=websocket&sid=${sid}`);
    ws.send("2probe");
    await once(socket, "upgrading");
    const closed = once(ws, "close", 3000);
    socket.close(true);
    await closed;
  });

  it("refuses upgrade requests for polling or unknown sessions", async () => {
    for (const query of ["EIO=4&transport=websocket&sid=unknown", "EIO=4&transport=polling"]) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?${query}`);
      ws.on("error", () => {});
      const [, response] = await once<[unknown, { statusCode: number }]>(ws, "unexpected-response");
      assert.equal(response.statusCode, 400);
      ws.terminate();
    }
  });
});

describe("engine upgrade under a stream of messages", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 10_000 });
  });
  after(() => server.close());

  const COUNT = 150;

  it("loses and reorders nothing in either direction", async () => {
    let sentAtUpgrade = -1;
    const serverReceived: string[] = [];
    const serverDone = new Promise<void>((resolve) => {
      server.engine.once("connection", (socket) => {
        let sent = 0;
        socket.on("upgrade", () => {
          sentAtUpgrade = sent;
        });
        const timer = setInterval(() => {
          // Every fifth message is binary, to move both kinds across the switch.
          if (sent % 5 === 4) socket.send(Buffer.from([sent & 0xff, sent >> 8]));
          else socket.send(`s${sent}`);
          if (++sent === COUNT) clearInterval(timer);
        }, 2);
        socket.on("message", (data) => {
          serverReceived.push(String(data));
          if (serverReceived.length === COUNT) resolve();
        });
      });
    });

    const client = connectClient(server.port);
    const clientReceived: string[] = [];
    const clientDone = new Promise<void>((resolve) => {
      client.on("message", (data) => {
        if (typeof data === "string") clientReceived.push(data);
        else {
          const bytes = new Uint8Array(data as ArrayBuffer);
          clientReceived.push(`s${bytes[0] | (bytes[1] << 8)}`);
        }
        if (clientReceived.length === COUNT) resolve();
      });
    });
    await once(client as unknown as EventEmitter, "open");
    let clientSent = 0;
    const clientTimer = setInterval(() => {
      client.send(`c${clientSent}`);
      if (++clientSent === COUNT) clearInterval(clientTimer);
    }, 2);

    await withTimeout(Promise.all([serverDone, clientDone]), 15_000, "the stream");
    client.close();
    assert.deepEqual(
      clientReceived,
      Array.from({ length: COUNT }, (_, i) => `s${i}`),
    );
    assert.deepEqual(
      serverReceived,
      Array.from({ length: COUNT }, (_, i) => `c${i}`),
    );
    assert.equal(client.transport.name, "websocket");
    // The switch happened in the middle of the stream.
    assert.ok(
      sentAtUpgrade > 0 && sentAtUpgrade < COUNT,
      `upgrade after ${sentAtUpgrade} messages`,
    );
  });

  it("keeps bursts sent while upgrading and right at the upgrade in order", async () => {
    server.engine.once("connection", (socket) => {
      socket.on("upgrading", () => {
        for (let i = 0; i < 50; i++) socket.send(`u${i}`);
      });
      socket.on("upgrade", () => {
        for (let i = 50; i < 100; i++) socket.send(`u${i}`);
      });
    });
    const client = connectClient(server.port);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${received.length}`)), 10_000);
      client.on("message", (data) => {
        received.push(String(data));
        if (received.length === 100) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    client.close();
    assert.deepEqual(
      received,
      Array.from({ length: 100 }, (_, i) => `u${i}`),
    );
  });
});

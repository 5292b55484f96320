/**
 * The server against the official engine.io-client, over each transport mode.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { after, before, describe, it } from "node:test";
import type { Socket as ClientSocket } from "engine.io-client";
import type { EngineSocket } from "../../src/engine/index.js";
import { connectClient, once, openClient, startServer, type TestServer } from "./helpers.js";

type Received = string | ArrayBuffer | Buffer | Blob;

function asEmitter(client: ClientSocket): EventEmitter {
  return client as unknown as EventEmitter;
}

/** Collects `count` messages from the client. */
function receive(client: ClientSocket, count: number): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const messages: Received[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${messages.length}/${count}`)), 5000);
    client.on("message", (data) => {
      messages.push(data as Received);
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    });
  });
}

function bytesOf(data: Received): number[] {
  if (typeof data === "string" || data instanceof Blob) throw new Error("expected binary");
  return [...new Uint8Array(data as ArrayBuffer)];
}

const MODES = [
  { name: "polling only", transports: ["polling"], upgrade: false, final: "polling" },
  { name: "websocket only", transports: ["websocket"], upgrade: false, final: "websocket" },
  {
    name: "default (polling, then upgrade)",
    transports: ["polling", "websocket"],
    upgrade: true,
    final: "websocket",
  },
] as const;

for (const mode of MODES) {
  describe(`engine with engine.io-client: ${mode.name}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ pingInterval: 200, pingTimeout: 400 });
      server.engine.on("connection", (socket) => {
        socket.on("message", (data) => {
          // Echo: text as text, binary as binary.
          socket.send(data);
        });
      });
    });
    after(() => server.close());

    it("connects on the expected transport and echoes text and binary", async () => {
      const upgraded = mode.upgrade
        ? once<[EngineSocket]>(server.engine, "connection").then(([socket]) =>
            once(socket, "upgrade"),
          )
        : null;
      const client = await openClient(server.port, { transports: [...mode.transports] });
      try {
        if (upgraded) await upgraded;
        const messages = receive(client, 2);
        client.send("hello €");
        client.send(new Uint8Array([0, 1, 2, 255]));
        const [text, binary] = await messages;
        assert.equal(text, "hello €");
        assert.deepEqual(bytesOf(binary), [0, 1, 2, 255]);
        assert.equal(client.transport.name, mode.final);
      } finally {
        client.close();
      }
    });

    it("delivers client messages as string and Buffer", async () => {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const client = await openClient(server.port, { transports: [...mode.transports] });
      try {
        const [socket] = await connected;
        const got: (string | Buffer)[] = [];
        const done = new Promise<void>((resolve) =>
          socket.on("message", (data) => {
            got.push(data);
            if (got.length === 3) resolve();
          }),
        );
        client.send("text");
        client.send(Uint8Array.from([9, 8, 7]));
        client.send("");
        await done;
        assert.equal(got[0], "text");
        assert.ok(Buffer.isBuffer(got[1]));
        assert.deepEqual([...(got[1] as Buffer)], [9, 8, 7]);
        // An empty message ("4" on the wire) is an empty string, not undefined.
        assert.equal(got[2], "");
      } finally {
        client.close();
      }
    });

    it("stays open across several heartbeats", async () => {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const client = await openClient(server.port, { transports: [...mode.transports] });
      try {
        const [socket] = await connected;
        let heartbeats = 0;
        socket.on("heartbeat", () => heartbeats++);
        let pings = 0;
        client.on("ping", () => pings++);
        // pingInterval is 200 ms: three rounds fit well within this bound.
        const deadline = Date.now() + 5000;
        while (heartbeats < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.ok(heartbeats >= 3, `heartbeats: ${heartbeats}`);
        assert.ok(pings >= 3);
        assert.equal(socket.readyState, "open");
      } finally {
        client.close();
      }
    });

    it("reports the client's close as transport close", async () => {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const client = await openClient(server.port, { transports: [...mode.transports] });
      const [socket] = await connected;
      if (mode.upgrade) await once(socket, "upgrade");
      const closed = once<[string]>(socket, "close");
      client.close();
      assert.equal((await closed)[0], "transport close");
      assert.ok(!server.engine.clients.has(socket.id));
    });

    it("closes the client when the server closes the session", async () => {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const client = await openClient(server.port, { transports: [...mode.transports] });
      const [socket] = await connected;
      if (mode.upgrade) await once(socket, "upgrade");
      const clientClosed = once(asEmitter(client), "close");
      const serverClosed = once<[string]>(socket, "close");
      socket.close();
      assert.equal((await serverClosed)[0], "forced close");
      await clientClosed;
    });

    it("closes every session on engine.close()", async () => {
      const client = await openClient(server.port, { transports: [...mode.transports] });
      const clientClosed = once(asEmitter(client), "close");
      assert.ok(server.engine.clientsCount >= 1);
      server.engine.close();
      await clientClosed;
      assert.equal(server.engine.clientsCount, 0);
      // The engine takes new sessions afterwards.
      const again = await openClient(server.port, { transports: [...mode.transports] });
      again.close();
    });
  });
}

describe("engine options seen by the client", () => {
  it("transports: ['polling'] makes the client stay on polling (no upgrade offered)", async () => {
    const server = await startServer({ transports: ["polling"] });
    try {
      const client = connectClient(server.port);
      const [handshake] = await once<[{ upgrades: string[] }]>(asEmitter(client), "handshake");
      assert.deepEqual(handshake.upgrades, []);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(client.transport.name, "polling");
      client.close();
    } finally {
      await server.close();
    }
  });

  it("allowUpgrades: false offers no upgrade", async () => {
    const server = await startServer({ allowUpgrades: false });
    try {
      const client = connectClient(server.port);
      const [handshake] = await once<[{ upgrades: string[] }]>(asEmitter(client), "handshake");
      assert.deepEqual(handshake.upgrades, []);
      client.close();
    } finally {
      await server.close();
    }
  });

  it("transports: ['websocket'] refuses polling handshakes and serves WebSocket clients", async () => {
    const server = await startServer({ transports: ["websocket"] });
    try {
      const refused = connectClient(server.port, { transports: ["polling"] });
      await once(asEmitter(refused), "error");
      refused.close();
      const client = await openClient(server.port, { transports: ["websocket"] });
      assert.equal(client.transport.name, "websocket");
      client.close();
    } finally {
      await server.close();
    }
  });

  it("initialPacket reaches every new client first", async () => {
    const server = await startServer({ initialPacket: "welcome" });
    try {
      const client = connectClient(server.port, { transports: ["websocket"] });
      const [data] = await once<[string]>(asEmitter(client), "message");
      assert.equal(data, "welcome");
      client.close();
    } finally {
      await server.close();
    }
  });
});

/**
 * Polling batches: everything waiting goes in one POST, but never more than the server's
 * maxPayload (batches are split, order kept); binary goes as "b" + base64.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EngineClient } from "../../../src/client/engine/index.js";
import {
  connect,
  fakeEngine,
  next,
  openPacket,
  record,
  SERVER_KINDS,
  startServer,
  waitUntil,
} from "./helpers.js";

describe("engine client polling batches (fake server)", () => {
  it("splits batches at maxPayload bytes, in order, each POST within the limit", async () => {
    const maxPayload = 100;
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 5000, pingTimeout: 5000, maxPayload }),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      const sent: string[] = [];
      // Queued before the handshake: they all wait for the first POST.
      for (let i = 0; i < 30; i++) {
        // Multi-byte characters: the limit is in bytes, not characters.
        const text = `m${i}-${"é".repeat(i % 7)}`;
        sent.push(text);
        client.send(text);
      }
      await next(client, "open");
      await waitUntil(() => server.posts.join("\x1e").split("\x1e").length >= 30, 5000, "posts");
      assert.ok(server.posts.length > 1, "more than one POST");
      for (const body of server.posts) {
        assert.ok(
          Buffer.byteLength(body) <= maxPayload,
          `a POST of ${Buffer.byteLength(body)} bytes`,
        );
      }
      const packets = server.posts.join("\x1e").split("\x1e");
      assert.deepEqual(
        packets,
        sent.map((text) => `4${text}`),
      );
      // Greedy: each POST but the last could not take the next packet.
      for (let i = 0; i < server.posts.length - 1; i++) {
        const nextPacket = server.posts[i + 1].split("\x1e")[0];
        assert.ok(
          Buffer.byteLength(server.posts[i]) + 1 + Buffer.byteLength(nextPacket) > maxPayload,
          `POST ${i} had room for the next packet`,
        );
      }
      client.close();
    } finally {
      await server.close();
    }
  });

  it("a packet larger than maxPayload goes alone; binary as b + base64", async () => {
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 5000, pingTimeout: 5000, maxPayload: 20 }),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      await next(client, "open");
      client.send("a");
      client.send("b".repeat(50));
      client.send(new Uint8Array([1, 2, 3]));
      client.send("c");
      await waitUntil(() => server.posts.length >= 3, 5000, "three POSTs");
      assert.deepEqual(server.posts, ["4a", `4${"b".repeat(50)}`, "bAQID\x1e4c"]);
      client.close();
    } finally {
      await server.close();
    }
  });
});

for (const kind of SERVER_KINDS) {
  describe(`engine client polling batches, ${kind} server`, () => {
    it("a burst larger than maxHttpBufferSize arrives whole, in order, session kept", async () => {
      const server = await startServer(kind, { maxHttpBufferSize: 1000 });
      try {
        const client = connect(server, { transports: ["polling"] });
        await next(client, "open");
        assert.equal(client.handshake?.maxPayload, 1000);
        const session = await server.session(client.id);
        const got = record(session);
        let closed = "";
        session.onClose((reason) => {
          closed = reason;
        });
        const expected: (string | number[])[] = [];
        for (let i = 0; i < 200; i++) {
          if (i % 10 === 9) {
            const data = Array.from({ length: 40 }, (_, j) => (i + j) & 255);
            expected.push(data);
            client.send(new Uint8Array(data));
          } else {
            const text = `${i}:${"ü".repeat(20)}`;
            expected.push(text);
            client.send(text);
          }
        }
        await waitUntil(() => got.length === 200 || closed !== "", 10000, "200 messages");
        assert.equal(closed, "");
        assert.deepEqual(
          got.map((data) => (typeof data === "string" ? data : [...data])),
          expected,
        );
        assert.equal(client.readyState, "open");
        client.close();
      } finally {
        await server.close();
      }
    });

    it("a single message over maxHttpBufferSize: the server refuses it, 'transport error'", async () => {
      const server = await startServer(kind, { maxHttpBufferSize: 1000 });
      try {
        const client = connect(server, { transports: ["polling"] });
        await next(client, "open");
        const closed = next(client, "close");
        client.send("x".repeat(5000));
        const [reason] = await closed;
        assert.equal(reason, "transport error");
      } finally {
        await server.close();
      }
    });
  });
}

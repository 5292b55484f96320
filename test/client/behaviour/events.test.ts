/**
 * The client's basic behaviour against each server: connecting over each transport set (id,
 * transport, upgrade), events both ways with every JSON type, send()/"message", onAny, and
 * binary data nested in objects and arrays both ways.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { waitUntil, withTimeout } from "../../helpers/timing.js";
import {
  bytesOf,
  connectPair,
  describeAgainstEachServer,
  startServer,
  type TestServer,
  transportName,
  waitFor,
} from "./harness.js";

const JSON_VALUES: unknown[] = [
  "text",
  "unicode: \u00e9\u4e2d\u{1f600}",
  "",
  0,
  -1.5,
  true,
  false,
  null,
  [],
  { nested: { deep: [1, "two", { three: 3 }] }, empty: {} },
];

describeAgainstEachServer("client: connection and events", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as (
    | "polling"
    | "websocket"
  )[][]) {
    it(`connects with transports ${transports.join("+")}: id, transport, server-side socket`, async () => {
      server = await startServer(kind);
      const { client, socket } = await connectPair(server, "/", { transports });
      assert.equal(client.connected, true);
      assert.equal(client.disconnected, false);
      assert.equal(client.id, socket.id);
      assert.equal(typeof client.id, "string");
      const expected = transports.at(-1);
      if (transportName(client) !== expected) await waitFor(client.io.engine, "upgrade");
      assert.equal(transportName(client), expected);
      // The server switches when the client's upgrade packet arrives, a moment later.
      await waitUntil(() => socket.conn.transport.name === expected, 5000, "the server's upgrade");
      // The connection works once upgraded.
      socket.on("ping-me", (ack: (reply: string) => void) => ack("pong"));
      assert.equal(await client.emitWithAck("ping-me"), "pong");
    });
  }

  it("socket.io.engine.transport.name names the transport, as socket.io's documentation uses it", async () => {
    server = await startServer(kind);
    const client = server.client("/");
    const name = () =>
      (client.io.engine as unknown as { transport?: { name?: unknown } }).transport?.name;
    const seen = await withTimeout(
      new Promise<unknown[]>((resolve) =>
        client.io.once("open", () => {
          const atOpen = name();
          client.io.engine.once("upgrade", () => resolve([atOpen, name()]));
        }),
      ),
      5000,
      "the open and the upgrade",
    );
    assert.deepEqual(seen, ["polling", "websocket"]);
  });

  it("carries events both ways with every JSON type and several arguments", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    const atServer = waitFor<unknown[]>(socket, "many");
    client.emit("many", ...JSON_VALUES);
    assert.deepEqual(await atServer, JSON_VALUES);

    const atClient = waitFor<unknown[]>(client, "many");
    socket.emit("many", ...JSON_VALUES);
    assert.deepEqual(await atClient, JSON_VALUES);

    // No argument at all.
    const bare = waitFor<unknown[]>(client, "bare");
    socket.emit("bare");
    assert.deepEqual(await bare, []);
  });

  it("send() is the 'message' event, onAny sees every incoming event, in order", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    const message = waitFor<unknown[]>(socket, "message");
    client.send("hello", 2);
    assert.deepEqual(await message, ["hello", 2]);

    const seen: unknown[][] = [];
    client.onAny((...args: unknown[]) => seen.push(args));
    const done = waitFor(client, "c");
    socket.emit("a", 1);
    socket.emit("b", { x: 2 });
    socket.emit("c");
    await done;
    assert.deepEqual(seen, [["a", 1], ["b", { x: 2 }], ["c"]]);

    const outgoing: unknown[][] = [];
    client.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
    const got = waitFor(socket, "out");
    client.emit("out", 7);
    await got;
    assert.deepEqual(outgoing, [["out", 7]]);
  });

  for (const transports of [["polling"], ["websocket"]] as ("polling" | "websocket")[][]) {
    it(`carries nested binary both ways over ${transports[0]}`, async () => {
      server = await startServer(kind);
      const { client, socket } = await connectPair(server, "/", { transports });
      const payload = {
        name: "files",
        buffer: new Uint8Array([1, 2, 3]),
        list: [new Uint8Array([4]).buffer, { inner: new Uint8Array(0), tag: "empty" }],
        typed: new Uint16Array([0x0102, 0x0304]),
      };
      const atServer = waitFor<unknown[]>(socket, "upload");
      client.emit("upload", payload, new Uint8Array([9, 9]));
      const [got, second] = (await atServer) as [
        { name: string; buffer: unknown; list: [unknown, { inner: unknown; tag: string }] },
        unknown,
        unknown,
      ];
      assert.equal(got.name, "files");
      assert.deepEqual(bytesOf(got.buffer), [1, 2, 3]);
      assert.deepEqual(bytesOf(got.list[0]), [4]);
      assert.deepEqual(bytesOf(got.list[1].inner), []);
      assert.equal(got.list[1].tag, "empty");
      assert.deepEqual(bytesOf((got as unknown as { typed: unknown }).typed), [
        ...new Uint8Array(payload.typed.buffer),
      ]);
      assert.deepEqual(bytesOf(second), [9, 9]);

      const atClient = waitFor<unknown[]>(client, "download");
      socket.emit("download", [{ deep: [Buffer.from([7, 8])] }], Buffer.alloc(70000, 0xab));
      const [tree, big] = (await atClient) as [[{ deep: [unknown] }], unknown];
      assert.deepEqual(bytesOf(tree[0].deep[0]), [7, 8]);
      const bigBytes = bytesOf(big);
      assert.equal(bigBytes.length, 70000);
      assert.ok(bigBytes.every((b) => b === 0xab));
    });
  }
});

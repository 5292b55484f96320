/**
 * The limits on namespaces a client can make the server deal with: the name's length (a CONNECT
 * to a 900 KB name gets a short CONNECT_ERROR that does not echo it, and the connection closes),
 * the namespaces one connection may be in, and the dynamic child namespaces clients may create.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Namespace } from "../../src/index.js";
import { Server } from "../../src/index.js";
import { httpRequest } from "../helpers/http-request.js";
import { withTimeout } from "../helpers/timing.js";
import { type ClientSocket, startServer, type TestServer } from "./helpers.js";
import { RawClient } from "./raw-client.js";

/**
 * The whole Engine.IO message a client gets for a name over the limit: a CONNECT_ERROR on "/",
 * never the name.
 */
const INVALID_LONG_NAME = '44{"message":"Invalid namespace"}';

let server: TestServer | undefined;
const raws: RawClient[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  await server?.close();
  server = undefined;
});

async function setUp(options: ConstructorParameters<typeof Server>[1] = {}): Promise<TestServer> {
  server = await startServer(options);
  return server;
}

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  raws.push(client);
  return client;
}

/** A well-behaved client's round trip still works. */
async function stillServes(client: ClientSocket): Promise<void> {
  const answer = await withTimeout(client.emitWithAck("echo", "still here"), 5000, "echo");
  assert.equal(answer, "still here");
}

function echoOn(nsp: Namespace): void {
  nsp.on("connection", (socket) => {
    socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
  });
}

describe("namespace name length", () => {
  it("a CONNECT to a 900 KB name, over WebSocket: a short CONNECT_ERROR without the name, then the connection closes", async () => {
    const { port, io, connect } = await setUp();
    echoOn(io.of("/"));
    const good = await connect("/");
    const client = await raw(port);
    const name = `/${"n".repeat(900 * 1024)}`;
    client.send(`40${name},`);
    const answer = String(await client.next());
    assert.equal(answer, INVALID_LONG_NAME);
    assert.ok(answer.length < 64, `${answer.length} bytes`);
    // The WebSocket closes (1000 or 1005: a normal close, not a protocol error).
    await client.waitClosed();
    await stillServes(good);
  });

  it("the same over long-polling: the answer is short, and the session ends", async () => {
    const { port, io, connect } = await setUp({ transports: ["polling"] });
    echoOn(io.of("/"));
    const good = await connect("/", { transports: ["polling"] });
    const handshake = await httpRequest(port, "/socket.io/?EIO=4&transport=polling");
    const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
    const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const posted = await httpRequest(port, path, "POST", `40/${"n".repeat(900 * 1024)},`);
    assert.equal(posted.status, 200);
    const polled = await httpRequest(port, path);
    assert.ok(polled.body.length < 64, `${polled.body.length} bytes`);
    assert.equal(polled.body, INVALID_LONG_NAME);
    // The session closes: the next poll gets the close packet.
    const next = await httpRequest(port, path);
    assert.equal(next.body.split("\x1e").at(-1), "1", `${next.status} ${next.body}`);
    await stillServes(good);
  });

  it("maxNamespaceLength (default 256) is the longest name accepted", async () => {
    const { port, io } = await setUp();
    io.of(/^\/n+$/);
    const client = await raw(port);
    const longest = `/${"n".repeat(255)}`;
    assert.match(await client.connect(longest), new RegExp(`^40${longest},\\{"sid":`));
    const other = await raw(port);
    assert.equal(await other.connect(`/${"n".repeat(256)}`), INVALID_LONG_NAME);
    await other.waitClosed();

    await server?.close();
    const small = await setUp({ maxNamespaceLength: 10 });
    small.io.of(/^\/n+$/);
    const third = await raw(small.port);
    assert.match(await third.connect("/nnnnnnnnn"), /^40\/nnnnnnnnn,\{"sid":/);
    const fourth = await raw(small.port);
    assert.equal(await fourth.connect("/nnnnnnnnnn"), INVALID_LONG_NAME);
  });

  it("refuses invalid limits at construction", () => {
    for (const options of [
      { maxNamespaceLength: -1 },
      { maxNamespacesPerClient: 1.5 },
      { maxChildNamespaces: Number.NaN },
    ]) {
      assert.throws(() => new Server(options), TypeError, JSON.stringify(options));
    }
  });
});

describe("namespaces per connection", () => {
  it("maxNamespacesPerClient: the next CONNECT gets an error, the connection and its namespaces stay", async () => {
    const { port, io } = await setUp({ maxNamespacesPerClient: 3 });
    for (const name of ["/a", "/b", "/c", "/d"]) echoOn(io.of(name));
    const client = await raw(port);
    for (const name of ["/a", "/b", "/c"]) {
      assert.match(await client.connect(name), new RegExp(`^40${name},\\{"sid":`));
    }
    assert.equal(await client.connect("/d"), '44/d,{"message":"Too many namespaces"}');
    client.send('42/a,7["echo","a"]');
    assert.equal(String(await client.next()), '43/a,7["a"]');
    // Leaving one makes room for another.
    client.send("41/b,");
    assert.match(await client.connect("/d"), /^40\/d,\{"sid":/);
  });

  it("defaults to 100", async () => {
    const { port, io } = await setUp();
    io.of(/^\/room-\d+$/);
    const client = await raw(port);
    for (let i = 0; i < 100; i++) {
      client.send(`40/room-${i},`);
      assert.match(String(await client.next()), /^40\/room-\d+,\{"sid":/);
    }
    assert.equal(
      await client.connect("/room-100"),
      '44/room-100,{"message":"Too many namespaces"}',
    );
  });
});

describe("child namespaces created by clients", () => {
  it("maxChildNamespaces: at the limit the oldest unused child makes room; when all are in use, refused", async () => {
    const { port, io } = await setUp({ maxChildNamespaces: 3 });
    io.of(/^\/w-\d+$/);
    const appChild = io.of("/w-0");
    const client = await raw(port);
    // Three children, then each left: unused but kept (cleanupEmptyChildNamespaces is off).
    for (const name of ["/w-1", "/w-2", "/w-3"]) {
      assert.match(await client.connect(name), new RegExp(`^40${name},`));
      client.send(`41${name},`);
    }
    const names = (): string[] => [...io._nsps.keys()].filter((n) => n.startsWith("/w-")).sort();
    assert.deepEqual(names(), ["/w-0", "/w-1", "/w-2", "/w-3"]);
    // A fourth: the oldest unused one (/w-1) goes; the application's own child stays.
    assert.match(await client.connect("/w-4"), /^40\/w-4,/);
    assert.deepEqual(names(), ["/w-0", "/w-2", "/w-3", "/w-4"]);
    assert.equal(io.of("/w-0"), appChild);
    // Fill the three slots with connected sockets: no room, the next new name is refused.
    assert.match(await client.connect("/w-2"), /^40\/w-2,/);
    assert.match(await client.connect("/w-3"), /^40\/w-3,/);
    assert.equal(await client.connect("/w-5"), '44/w-5,{"message":"Invalid namespace"}');
    assert.deepEqual(names(), ["/w-0", "/w-2", "/w-3", "/w-4"]);
    // Existing children still take connections.
    const other = await raw(port);
    assert.match(await other.connect("/w-4"), /^40\/w-4,/);
  });

  it("a flood of distinct names does not grow the server past the limit", async () => {
    const { port, io } = await setUp({ maxChildNamespaces: 50 });
    io.of(/^\/flood-\d+$/);
    const client = await raw(port);
    for (let i = 0; i < 300; i++) {
      client.send(`40/flood-${i},`);
      assert.match(String(await client.next()), /^40\/flood-\d+,/);
      client.send(`41/flood-${i},`);
    }
    const children = [...io._nsps.keys()].filter((n) => n.startsWith("/flood-"));
    assert.ok(children.length <= 50, `${children.length} child namespaces`);
  });
});

/**
 * The server's `ackTimeout` option and `namespace.ackTimeout`, with the official socket.io-client
 * as the peer (its listeners never acknowledge, or answer at once): emits with a callback,
 * `emitWithAck` and broadcasts with acknowledgements time out without `timeout(ms)`, with the
 * Error `timeout(ms)` gives; without the option nothing times out (socket.io's behaviour).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { delay } from "../helpers/timing.js";
import { type ClientSocket, startServer, type TestServer, waitFor } from "./helpers.js";

/**
 * The server's ackTimeout in these tests: long enough for an answer on a loaded machine (an
 * answered emit must not time out), short enough to keep the waits for silent clients short.
 */
const ACK_TIMEOUT = 500;

/** Connects a client whose "silent" listener never answers and whose "echo" answers at once. */
async function connect(server: TestServer, nsp = "/"): Promise<[Socket, ClientSocket]> {
  const connection = waitFor<[Socket]>(server.io.of(nsp), "connection");
  const client = server.client(nsp, { transports: ["websocket"] });
  client.on("silent", () => {
    // never answers
  });
  client.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
  const [socket] = await connection;
  return [socket, client];
}

/** The arguments the callback of `emit(...args, callback)` gets. */
function callbackArgs(emit: (callback: (...args: unknown[]) => void) => void): Promise<unknown[]> {
  return new Promise((resolve) => emit((...args) => resolve(args)));
}

describe("ackTimeout", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ ackTimeout: ACK_TIMEOUT });
  });
  after(() => server.close());

  it("gives an unanswered emit callback the timeout Error, an answered one null first", async () => {
    const [socket] = await connect(server);
    const started = Date.now();
    const timedOut = await callbackArgs((cb) => socket.emit("silent", 1, cb));
    assert.ok(Date.now() - started >= ACK_TIMEOUT - 10, "not before ackTimeout");
    assert.equal(timedOut.length, 1);
    assert.ok(timedOut[0] instanceof Error);
    assert.equal(timedOut[0].message, "operation has timed out");
    assert.deepEqual(await callbackArgs((cb) => socket.emit("echo", "hi", cb)), [null, "hi"]);
    assert.equal(socket.acks.size, 0, "nothing left pending");
  });

  it("rejects emitWithAck, and an explicit timeout(ms) still wins", async () => {
    const [socket] = await connect(server);
    await assert.rejects(socket.emitWithAck("silent"), { message: "operation has timed out" });
    assert.equal(await socket.emitWithAck("echo", 7), 7);
    const started = Date.now();
    await assert.rejects(socket.timeout(2 * ACK_TIMEOUT).emitWithAck("silent"), {
      message: "operation has timed out",
    });
    assert.ok(Date.now() - started >= 2 * ACK_TIMEOUT - 10, "timeout(ms) overrides ackTimeout");
  });

  it("times out broadcasts with acknowledgements, keeping the responses that came", async () => {
    const [first] = await connect(server);
    const [second] = await connect(server);
    first.join("mixed");
    second.join("mixed");
    const [err, responses] = await callbackArgs((cb) => server.io.to("mixed").emit("silent", cb));
    assert.ok(err instanceof Error);
    assert.equal(err.message, "operation has timed out");
    assert.deepEqual(responses, []);
    const rejected = (await server.io
      .to("mixed")
      .emitWithAck("silent")
      .catch((error: unknown) => error)) as Error & { responses?: unknown };
    assert.equal(rejected.message, "operation has timed out");
    assert.deepEqual(await callbackArgs((cb) => server.io.to("mixed").emit("echo", 3, cb)), [
      null,
      [3, 3],
    ]);
  });

  it("can be changed per namespace, and dynamic children take their parent's", async () => {
    const admin = server.io.of("/admin");
    assert.equal(admin.ackTimeout, ACK_TIMEOUT);
    admin.ackTimeout = 2 * ACK_TIMEOUT;
    const [socket] = await connect(server, "/admin");
    const started = Date.now();
    await assert.rejects(socket.emitWithAck("silent"), { message: "operation has timed out" });
    assert.ok(Date.now() - started >= 2 * ACK_TIMEOUT - 10, "the namespace's, not the server's");

    const parent = server.io.of(/^\/tenant-\d+$/);
    parent.ackTimeout = undefined;
    const [child] = await connect(server, "/tenant-1");
    assert.equal(child.nsp.ackTimeout, undefined);
    let answered = false;
    child.emit("silent", () => {
      answered = true;
    });
    await delay(ACK_TIMEOUT + 100);
    assert.equal(answered, false, "no ackTimeout: waits (socket.io's behaviour)");
    assert.equal(child.acks.size, 1);
  });
});

describe("without ackTimeout (the default)", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("waits for the acknowledgement as socket.io does, the callback getting the answer alone", async () => {
    const [socket] = await connect(server);
    assert.equal(server.io.of("/").ackTimeout, undefined);
    let called = false;
    socket.emit("silent", () => {
      called = true;
    });
    await delay(200);
    assert.equal(called, false);
    assert.equal(socket.acks.size, 1);
    assert.deepEqual(await callbackArgs((cb) => socket.emit("echo", "x", cb)), ["x"]);
  });
});

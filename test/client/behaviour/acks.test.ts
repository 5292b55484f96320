/**
 * Acknowledgements against each server: client acks answered by the server (callback and
 * emitWithAck), server acks answered by the client, binary in acks, timeouts (callback error and
 * rejection) and ackTimeout with retries.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import {
  bytesOf,
  connectPair,
  describeAgainstEachServer,
  startServer,
  type TestServer,
  waitFor,
} from "./harness.js";

type Ack = (...args: unknown[]) => void;

describeAgainstEachServer("client: acknowledgements", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  it("the server answers the client's acks (callback and emitWithAck), with binary", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    socket.on("sum", (a: number, b: number, ack: Ack) => ack(a + b, "sum"));
    socket.on("reverse", (bytes: Uint8Array, ack: Ack) =>
      ack({ reversed: Buffer.from(bytes).reverse() }),
    );

    const viaCallback = await new Promise<unknown[]>((resolve) =>
      client.emit("sum", 2, 3, (...reply: unknown[]) => resolve(reply)),
    );
    assert.deepEqual(viaCallback, [5, "sum"]);
    // emitWithAck resolves with the first argument of the answer.
    assert.equal(await client.emitWithAck("sum", 10, 20), 30);
    const { reversed } = (await client.emitWithAck("reverse", new Uint8Array([1, 2, 3]))) as {
      reversed: unknown;
    };
    assert.deepEqual(bytesOf(reversed), [3, 2, 1]);
  });

  it("many acks in flight are matched to their own emits", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    // Answer in reverse order of arrival so ids, not order, must match the answers.
    const pending: Array<() => void> = [];
    socket.on("echo", (n: number, ack: Ack) => {
      pending.push(() => ack(n * 2));
      if (pending.length === 20) for (const answer of pending.reverse()) answer();
    });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => client.emitWithAck("echo", n)),
    );
    assert.deepEqual(
      replies,
      Array.from({ length: 20 }, (_, n) => n * 2),
    );
  });

  it("the client answers the server's acks (callback, emitWithAck, timeout)", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    client.on("question", (what: string, ack: Ack) =>
      ack(`answer to ${what}`, new Uint8Array([5])),
    );
    client.on("silent", () => {});

    const reply = await new Promise<unknown[]>((resolve) =>
      socket.emit("question", "life", (...args: unknown[]) => resolve(args)),
    );
    assert.equal(reply[0], "answer to life");
    assert.deepEqual(bytesOf(reply[1]), [5]);
    assert.equal(await socket.emitWithAck("question", "again"), "answer to again");
    await assert.rejects(socket.timeout(100).emitWithAck("silent"), /timed out|timeout/i);
  });

  it("timeout(): the callback gets an error, emitWithAck rejects, a late answer is ignored", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server);
    const late: Ack[] = [];
    socket.on("slow", (ack: Ack) => late.push(ack));

    const viaCallback = await new Promise<unknown[]>((resolve) =>
      client.timeout(50).emit("slow", (...args: unknown[]) => resolve(args)),
    );
    assert.equal(viaCallback.length, 1);
    assert.ok(viaCallback[0] instanceof Error, "the first argument is an Error");
    assert.match((viaCallback[0] as Error).message, /timed out/i);

    await assert.rejects(client.timeout(50).emitWithAck("slow"), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /timed out/i);
      return true;
    });

    // The server answers both now: the client has dropped them, nothing is called twice.
    let calls = 0;
    const answered = new Promise<unknown[]>((resolve) =>
      client.timeout(2000).emit("slow", (...args: unknown[]) => {
        calls++;
        resolve(args);
      }),
    );
    await waitFor(socket, "slow");
    for (const ack of late) ack("too late");
    assert.deepEqual(await answered, [null, "too late"]);
    // A round trip after the late answers: a stray callback would have run by then.
    socket.on("fence", (ack: Ack) => ack());
    await client.emitWithAck("fence");
    assert.equal(calls, 1);
  });

  it("ackTimeout with retries: resent until answered, delivered in order, answered once", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server, "/", { ackTimeout: 300, retries: 5 });
    const received: unknown[] = [];
    let ignoreNext = 2;
    socket.on("flaky", (n: number, ack: Ack) => {
      received.push(n);
      if (n === 1 && ignoreNext > 0) {
        ignoreNext--;
        return;
      }
      ack(`ok ${n}`);
    });
    const replies = await Promise.all([
      client.emitWithAck("flaky", 1),
      client.emitWithAck("flaky", 2),
      client.emitWithAck("flaky", 3),
    ]);
    assert.deepEqual(replies, ["ok 1", "ok 2", "ok 3"]);
    // The first emit went out (at least) three times, the others waited behind it: one in flight
    // at a time, so never out of order. (An answer slower than ackTimeout, on a loaded machine,
    // is one more resend, hence "at least".)
    assert.ok(received.filter((n) => n === 1).length >= 3, `${received}`);
    assert.deepEqual([...new Set(received)], [1, 2, 3]);
    for (let i = 1; i < received.length; i++) {
      assert.ok((received[i] as number) >= (received[i - 1] as number), `in order: ${received}`);
    }

    // Out of retries: the emit fails.
    socket.on("never", () => {});
    await assert.rejects(client.emitWithAck("never"), /timed out|operation has timed out/i);
  });
});

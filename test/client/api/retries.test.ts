/**
 * `retries` with `ackTimeout`: at-least-once delivery in order, one event in flight at a time;
 * unacknowledged tries are resent, and the callback gets an error once the retries are spent.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { delay, withTimeout } from "../../helpers/timing.js";
import { startServer, type TestServer } from "./helpers.js";

describe("client retries", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A server that answers each event only on its `answerOnTry`-th arrival (never when 0). */
  async function flakyServer(answerOnTry: number) {
    // Long enough that a loaded machine answers the answered try in time (a late answer would
    // count as one more unanswered try), short enough to keep the suite quick.
    server = await startServer({}, { ackTimeout: 400, retries: 2 });
    const arrivals: string[] = [];
    const tries = new Map<string, number>();
    server.io.on("connection", (s) =>
      s.onAny((event: string, value: unknown, ack: (reply: string) => void) => {
        arrivals.push(`${event}:${String(value)}`);
        const count = (tries.get(event) ?? 0) + 1;
        tries.set(event, count);
        if (count === answerOnTry) ack(`got ${event}`);
      }),
    );
    return { server, arrivals };
  }

  it("resends until acknowledged, one event at a time and in order", async () => {
    const { server, arrivals } = await flakyServer(3);
    const client = await server.connect();
    const answers: unknown[][] = [];
    const done = new Promise<void>((resolve) => {
      client.emit("a", 1, (...args: unknown[]) => answers.push(args));
      client.emit("b", 2, (...args: unknown[]) => {
        answers.push(args);
        resolve();
      });
    });
    await withTimeout(done, 5000, "the acknowledgements");
    assert.deepEqual(arrivals, ["a:1", "a:1", "a:1", "b:2", "b:2", "b:2"]);
    assert.deepEqual(answers, [
      [null, "got a"],
      [null, "got b"],
    ]);
  });

  it("gives up after the retries with an error, then sends the next event", async () => {
    const { server, arrivals } = await flakyServer(0);
    const client = await server.connect();
    const outcomes: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      client.emit("lost", 1, (err: unknown) => outcomes.push(err));
      client.emit("also-lost", 2, (err: unknown) => {
        outcomes.push(err);
        resolve();
      });
    });
    await withTimeout(done, 5000, "the failures");
    assert.equal(outcomes.length, 2);
    for (const err of outcomes) {
      assert.ok(err instanceof Error);
      assert.equal(err.message, "operation has timed out");
    }
    assert.deepEqual(arrivals, [
      "lost:1",
      "lost:1",
      "lost:1",
      "also-lost:2",
      "also-lost:2",
      "also-lost:2",
    ]);
  });

  it("resolves emitWithAck after a retry", async () => {
    const { server, arrivals } = await flakyServer(2);
    const client = await server.connect();
    assert.equal(await client.emitWithAck("q", 1), "got q");
    assert.deepEqual(arrivals, ["q:1", "q:1"]);
  });

  it("rejects emitWithAck once the retries are spent", async () => {
    const { server, arrivals } = await flakyServer(0);
    const client = await server.connect();
    await assert.rejects(client.emitWithAck("q", 1), /operation has timed out/);
    assert.deepEqual(arrivals, ["q:1", "q:1", "q:1"]);
  });

  it("keeps queued events while disconnected and sends them on connect", async () => {
    const { server, arrivals } = await flakyServer(1);
    const client = server.client("/", { autoConnect: false });
    const answers: unknown[][] = [];
    client.emit("x", 1, (...args: unknown[]) => answers.push(args));
    client.emit("y", 2, (...args: unknown[]) => answers.push(args));
    await delay(100);
    assert.deepEqual(arrivals, [], "nothing is sent before connecting");
    client.connect();
    for (let i = 0; i < 300 && answers.length < 2; i++) await delay(10);
    assert.deepEqual(arrivals, ["x:1", "y:2"]);
    assert.deepEqual(answers, [
      [null, "got x"],
      [null, "got y"],
    ]);
  });

  it("does not queue volatile emits", async () => {
    const { server, arrivals } = await flakyServer(0);
    const client = await server.connect("/", { transports: ["websocket"] });
    client.volatile.emit("v", 1);
    client.volatile.emit("w", 2);
    for (let i = 0; i < 300 && arrivals.length < 2; i++) await delay(10);
    assert.deepEqual(arrivals, ["v:1", "w:2"], "sent at once, not one at a time, never resent");
    await delay(600); // past the ack timeout: a retried emit would have been sent again by now
    assert.equal(arrivals.length, 2);
  });
});

/**
 * The client's typed Emitter: registration order, once, off in its three forms, emission over a
 * snapshot, reserved events, listeners(), and types (tuple and signature maps).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emitter, listenTo } from "../../src/client/emitter.js";

interface TupleEvents {
  open: [];
  message: [data: string, binary: boolean];
  count: [n: number];
}

interface SignatureEvents {
  chat: (text: string, from: number) => void;
}

describe("Emitter", () => {
  it("calls listeners in registration order with the arguments, `this` the emitter", () => {
    const emitter = new Emitter<TupleEvents>();
    const calls: string[] = [];
    emitter.on("message", function (this: unknown, data, binary) {
      assert.equal(this, emitter);
      calls.push(`a ${data} ${binary}`);
    });
    emitter.on("message", (data) => calls.push(`b ${data}`));
    assert.equal(emitter.emit("message", "hi", false), emitter);
    assert.deepEqual(calls, ["a hi false", "b hi"]);
    emitter.emit("open"); // no listener: nothing happens
  });

  it("once runs a listener a single time, and off(event, original) removes it", () => {
    const emitter = new Emitter<TupleEvents>();
    const seen: number[] = [];
    emitter.once("count", (n) => seen.push(n));
    emitter.emit("count", 1);
    emitter.emit("count", 2);
    assert.deepEqual(seen, [1]);
    const never = (n: number) => seen.push(n * 100);
    emitter.once("count", never);
    assert.deepEqual(emitter.listeners("count"), [never]);
    emitter.off("count", never);
    emitter.emit("count", 3);
    assert.deepEqual(seen, [1]);
    assert.equal(emitter.hasListeners("count"), false);
  });

  it("off: one registration of a listener, all of an event, or everything", () => {
    const emitter = new Emitter<TupleEvents>();
    let count = 0;
    const add = () => count++;
    emitter.on("open", add);
    emitter.on("open", add);
    emitter.off("open", add);
    emitter.emit("open");
    assert.equal(count, 1, "one of the two registrations left");
    emitter.on("count", add);
    emitter.removeAllListeners("open");
    emitter.emit("open");
    emitter.emit("count", 0);
    assert.equal(count, 2);
    emitter.off();
    emitter.emit("count", 0);
    assert.equal(count, 2);
    assert.equal(emitter.listenerCount("count"), 0);
    emitter.off("count", add); // removing what is not there is fine
  });

  it("an emission walks the listeners as they were when it started", () => {
    const emitter = new Emitter<TupleEvents>();
    const calls: string[] = [];
    const second = () => calls.push("second");
    emitter.on("open", () => {
      calls.push("first");
      emitter.off("open", second);
      emitter.on("open", () => calls.push("added"));
    });
    emitter.on("open", second);
    emitter.emit("open");
    assert.deepEqual(calls, ["first", "second"]);
    calls.length = 0;
    emitter.emit("open");
    assert.deepEqual(calls, ["first", "added"]);
  });

  it("a listener that throws stops the emission and the error reaches the emitter's caller", () => {
    const emitter = new Emitter<TupleEvents>();
    let after = false;
    emitter.on("open", () => {
      throw new Error("listener bug");
    });
    emitter.on("open", () => {
      after = true;
    });
    assert.throws(() => emitter.emit("open"), /listener bug/);
    assert.equal(after, false);
  });

  it("an error event without listeners is dropped, not thrown", () => {
    const emitter = new Emitter<{ error: [Error] }>();
    emitter.emit("error", new Error("nobody listens"));
  });

  it("reserved events: listenable, emitted with emitReserved, separate from emit", () => {
    class Talker extends Emitter<SignatureEvents, { send: [string] }, { connect: [] }> {
      sent: string[] = [];
      override emit<Ev extends "send">(event: Ev, ...args: [string]): this {
        this.sent.push(`${event}:${args[0]}`);
        return this;
      }
    }
    const talker = new Talker();
    let connected = 0;
    const chats: string[] = [];
    talker.on("connect", () => connected++);
    talker.on("chat", (text, from) => chats.push(`${from}:${text}`));
    talker.emitReserved("connect");
    talker.emit("send", "x");
    assert.equal(connected, 1);
    assert.deepEqual(talker.sent, ["send:x"]);
    assert.deepEqual(chats, []);
  });

  it("aliases: addEventListener, removeListener, removeEventListener", () => {
    const emitter = new Emitter<TupleEvents>();
    let count = 0;
    const add = () => count++;
    emitter.addEventListener("open", add);
    emitter.emit("open");
    emitter.removeListener("open", add);
    emitter.emit("open");
    emitter.addEventListener("open", add);
    emitter.removeEventListener("open", add);
    emitter.emit("open");
    assert.equal(count, 1);
  });

  it("symbols are event names too", () => {
    const key = Symbol("k");
    const emitter = new Emitter<{ [key]: [number] }>();
    let got = 0;
    emitter.on(key, (n) => {
      got = n;
    });
    emitter.emit(key, 5);
    assert.equal(got, 5);
  });

  it("types: wrong names and arguments do not compile", () => {
    const emitter = new Emitter<TupleEvents>();
    // @ts-expect-error unknown event
    emitter.on("nope", () => {});
    // @ts-expect-error wrong argument type
    emitter.emit("count", "1");
    // @ts-expect-error missing argument
    emitter.emit("message", "x");
    // @ts-expect-error listener parameter of the wrong type
    emitter.on("count", (n: string) => n);
    const signatures = new Emitter<SignatureEvents>();
    // @ts-expect-error wrong argument type for a signature map
    signatures.emit("chat", "hi", "me");
    signatures.emit("chat", "hi", 1);
  });

  it("listenTo adds a map of listeners in order and returns the undo of them all", () => {
    const emitter = new Emitter<TupleEvents>();
    const calls: string[] = [];
    const other = () => calls.push("other");
    emitter.on("count", other);
    const undo = listenTo<TupleEvents>(emitter, {
      count: (n) => calls.push(`count ${n}`),
      message: (data, binary) => calls.push(`message ${data} ${binary}`),
    });
    emitter.emit("count", 1);
    emitter.emit("message", "hi", true);
    undo();
    emitter.emit("count", 2);
    emitter.emit("message", "again", false);
    assert.deepEqual(calls, ["other", "count 1", "message hi true", "other"]);
    // @ts-expect-error listener parameter of the wrong type
    listenTo<TupleEvents>(emitter, { count: (n: string) => n });
  });
});

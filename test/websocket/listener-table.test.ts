import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import {
  listenerTable,
  namesWithListeners,
  useListenerTable,
} from "../../src/websocket/listener-table.js";

const EmptyTable = listenerTable();
const DeclaredTable = listenerTable(["message", "close"]);

function emitterWith(Table: ReturnType<typeof listenerTable>): EventEmitter {
  const emitter = new EventEmitter();
  useListenerTable(emitter, Table);
  return emitter;
}

describe("listener tables", () => {
  for (const [label, Table] of [
    ["empty", EmptyTable],
    ["with declared events", DeclaredTable],
  ] as const) {
    it(`an emitter with a table ${label} behaves as EventEmitter does`, () => {
      const emitter = emitterWith(Table);
      const calls: string[] = [];
      const first = (x: string) => calls.push(`first ${x}`);
      const second = (x: string) => calls.push(`second ${x}`);
      emitter.on("message", first);
      emitter.on("message", second);
      emitter.once("close", (x: string) => calls.push(`close ${x}`));
      assert.equal(emitter.listenerCount("message"), 2);
      assert.equal(emitter.emit("message", "a"), true);
      assert.equal(emitter.emit("close", "b"), true);
      assert.equal(emitter.emit("close", "c"), false);
      assert.equal(emitter.emit("other"), false);
      emitter.off("message", first);
      emitter.emit("message", "d");
      assert.deepEqual(calls, ["first a", "second a", "close b", "second d"]);
      emitter.removeAllListeners();
      assert.equal(emitter.emit("message", "e"), false);
      assert.equal(emitter.listenerCount("message"), 0);
    });

    it(`no event name finds an inherited property (table ${label})`, () => {
      const emitter = emitterWith(Table);
      for (const name of ["toString", "constructor", "hasOwnProperty", "__proto__", "valueOf"]) {
        assert.equal(emitter.listenerCount(name), 0, name);
        assert.equal(emitter.emit(name), false, name);
        let heard = 0;
        emitter.on(name, () => heard++);
        assert.equal(emitter.emit(name), true, name);
        assert.equal(heard, 1, name);
      }
    });

    it(`an error event without listener still throws (table ${label})`, () => {
      const emitter = emitterWith(Table);
      assert.throws(() => emitter.emit("error", new Error("boom")), /boom/);
    });
  }

  it("namesWithListeners lists only the declared events that have listeners", () => {
    const emitter = emitterWith(DeclaredTable);
    assert.deepEqual(namesWithListeners(emitter), []);
    const listener = () => {};
    emitter.on("close", listener);
    emitter.on("custom", listener);
    assert.deepEqual(namesWithListeners(emitter).sort(), ["close", "custom"]);
    emitter.off("close", listener);
    assert.deepEqual(namesWithListeners(emitter), ["custom"]);
  });

  it("an emitter without declared events lists its events as EventEmitter does", () => {
    const emitter = emitterWith(EmptyTable);
    const plain = new EventEmitter();
    for (const target of [emitter, plain]) {
      target.on("b", () => {});
      target.on("a", () => {});
      target.on("a", () => {});
    }
    assert.deepEqual(emitter.eventNames(), plain.eventNames());
  });
});

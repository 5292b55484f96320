/**
 * The client's binary helpers: received attachments mapped in place (ArrayBuffer for browsers),
 * Blobs read into bytes without touching the caller's data.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convertReceivedBinary, readBlobs } from "../../../src/client/binary.js";
import { toArrayBuffer } from "../../../src/protocol/array-buffer.js";

describe("client binary helpers", () => {
  it("gives the view's own ArrayBuffer when it spans it, else an exact copy", () => {
    const whole = new Uint8Array([1, 2, 3]);
    assert.equal(toArrayBuffer(whole), whole.buffer);
    const part = new Uint8Array(whole.buffer, 1, 1);
    const copy = toArrayBuffer(part);
    assert.notEqual(copy, whole.buffer);
    assert.deepEqual([...new Uint8Array(copy)], [2]);
  });

  it("replaces every received attachment, however deep, keeping __proto__ a plain key", () => {
    const a = new Uint8Array([1]);
    const b = new Uint8Array([2]);
    // JSON.parse makes "__proto__" an own property, as the decoder's output has it.
    const data: unknown[] = JSON.parse('["ev", {"x": [null, {"__proto__": 0}]}, 5]');
    Object.defineProperty((data[1] as { x: unknown[] }).x[1], "__proto__", {
      value: b,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    (data[1] as { x: unknown[] }).x[0] = a;
    convertReceivedBinary(data, toArrayBuffer);
    const x = (data[1] as { x: unknown[] }).x;
    assert.ok(x[0] instanceof ArrayBuffer);
    const holder = x[1] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(holder), Object.prototype, "the prototype is untouched");
    assert.ok(Object.getOwnPropertyDescriptor(holder, "__proto__")?.value instanceof ArrayBuffer);
    assert.equal(data[2], 5);
  });

  it("reads Blobs into bytes in a copy, leaving the caller's data as it was", async () => {
    const blob = new Blob([new Uint8Array([4, 5])]);
    const inner = { keep: 1, file: blob };
    const data: unknown[] = ["upload", inner, [blob], "text"];
    const plain = ["no", { blob: false }, new Uint8Array(2), new Array(3)];
    assert.equal(readBlobs(plain), null, "nothing to read: the packet can go at once");
    const reading = readBlobs(data);
    assert.ok(reading !== null);
    const read = await reading;
    assert.equal(inner.file, blob, "not mutated");
    assert.equal((data[2] as unknown[])[0], blob);
    const readInner = read[1] as { keep: number; file: Uint8Array };
    assert.equal(readInner.keep, 1);
    assert.deepEqual([...readInner.file], [4, 5]);
    assert.deepEqual([...(read[2] as Uint8Array[])[0]!], [4, 5]);
    assert.equal(read[3], "text");
    assert.notEqual(read, data);
    // "__proto__" stays an own key of the copy; a hole stays a hole.
    const tricky: unknown[] = JSON.parse('[{"__proto__": {"x": 1}}, 0]');
    (tricky[0] as Record<string, unknown>).file = blob;
    const sparse: unknown[] = new Array(2);
    sparse[1] = blob;
    tricky[1] = sparse;
    const trickyRead = (await readBlobs(tricky)) as [Record<string, unknown>, unknown[]];
    assert.equal(Object.getPrototypeOf(trickyRead[0]), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(trickyRead[0], "__proto__")?.value, { x: 1 });
    assert.ok(trickyRead[0].file instanceof Uint8Array);
    assert.equal(0 in trickyRead[1], false);
    assert.ok(trickyRead[1][1] instanceof Uint8Array);
  });

  it("a Blob that cannot be read rejects the read", async () => {
    const broken = new Blob([new Uint8Array([1])]);
    broken.arrayBuffer = () => Promise.reject(new Error("gone"));
    await assert.rejects(readBlobs(["upload", { file: broken }]) ?? Promise.resolve(), /gone/);
  });
});

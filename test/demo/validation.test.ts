/** The checks on what the chat page sends: names, rooms and message texts. */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { isSameOrigin } from "../../src/demo/origin.js";
import { checkMessageText, checkNickname, checkRoomName } from "../../src/demo/validation.js";

describe("checkNickname", () => {
  it("accepts letters of any script, digits and a few separators, trimmed", () => {
    for (const [input, value] of [
      ["ada", "ada"],
      ["  Grace Hopper ", "Grace Hopper"],
      ["Zoë_2.0-b", "Zoë_2.0-b"],
      ["李雷", "李雷"],
      ["x".repeat(24), "x".repeat(24)],
    ]) {
      assert.deepEqual(checkNickname(input), { ok: true, value }, input);
    }
  });

  it("refuses what is not a name", () => {
    for (const input of [
      undefined,
      null,
      42,
      ["ada"],
      "",
      "   ",
      "x".repeat(25),
      "-dash-first",
      "<b>",
      "tab\there",
      "zero\u200bwidth",
      "new\nline",
    ]) {
      assert.equal(checkNickname(input).ok, false, JSON.stringify(input));
    }
  });
});

describe("checkRoomName", () => {
  it("folds case and accepts a-z, 0-9, _ and -", () => {
    assert.deepEqual(checkRoomName(" Random "), { ok: true, value: "random" });
    assert.deepEqual(checkRoomName("room_1-b"), { ok: true, value: "room_1-b" });
  });

  it("refuses other names", () => {
    for (const input of [undefined, 1, {}, "", "two words", "é", "_first", "r".repeat(25), "a/b"]) {
      assert.equal(checkRoomName(input).ok, false, JSON.stringify(input));
    }
  });
});

describe("checkMessageText", () => {
  it("keeps the text as typed, markup included (the page escapes it)", () => {
    assert.deepEqual(checkMessageText("  <b>hi</b> "), { ok: true, value: "  <b>hi</b> " });
    assert.deepEqual(checkMessageText("x".repeat(500)), { ok: true, value: "x".repeat(500) });
  });

  it("refuses non-text, blank and over-long messages with a message for the user", () => {
    assert.deepEqual(checkMessageText(12), { ok: false, error: "a message must be text" });
    assert.deepEqual(checkMessageText(" \n\t"), { ok: false, error: "the message is empty" });
    assert.deepEqual(checkMessageText("x".repeat(501)), {
      ok: false,
      error: "message too long: 501 characters, the limit is 500",
    });
  });
});

describe("isSameOrigin", () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it("lets non-browser clients (no Origin) and the server's own pages in", () => {
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:8080" })), true);
    assert.equal(
      isSameOrigin(request({ host: "localhost:8080", origin: "http://localhost:8080" })),
      true,
    );
    assert.equal(
      isSameOrigin(request({ host: "LOCALHOST:8080", origin: "http://localhost:8080" })),
      true,
    );
  });

  it("refuses other origins, opaque ones and garbage", () => {
    for (const origin of ["http://evil.example", "http://localhost:8081", "null", "not a url"]) {
      assert.equal(isSameOrigin(request({ host: "localhost:8080", origin })), false, origin);
    }
    assert.equal(isSameOrigin(request({ origin: "http://localhost:8080" })), false);
  });
});

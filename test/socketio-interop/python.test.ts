/**
 * Interop with python3-socketio 5.7.2 (Debian's) as a client of the server under test: its
 * threaded client (requests for polling, websocket-client for WebSocket) and its asyncio client
 * (aiohttp for both), each over polling only, WebSocket only, and polling upgraded to WebSocket. The Python side reports what it
 * received as JSON lines (python/*.py); the server records what it received (scenario.ts). Both
 * are asserted in full.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type JsonLine, runPython } from "../helpers/python.js";
import { waitUntil } from "../helpers/timing.js";
import { installScenario, REFUSAL, type ServerEvent } from "./scenario.js";
import { type RunningSubject, startSubject } from "./subject.js";

const scripts = fileURLToPath(new URL("./python/", import.meta.url));
const hex = (bytes: Iterable<number>) => Buffer.from([...bytes]).toString("hex");
const ALL_BYTES = Array.from({ length: 256 }, (_, i) => i);

function step(lines: JsonLine[], name: string): JsonLine {
  const line = lines.find((l) => l.step === name);
  assert.ok(line, `python reported no "${name}" step; got ${JSON.stringify(lines)}`);
  const { step: _, ...fields } = line;
  return fields;
}

/** What python must report, step by step, whichever client and transport. */
function expectPythonSide(lines: JsonLine[], transport: string): void {
  assert.deepEqual(step(lines, "rejected"), {
    connected: false,
    error: "One or more namespaces failed to connect",
    connect_error: [[REFUSAL]],
  });
  assert.deepEqual(step(lines, "connected"), {
    transport,
    namespaces: ["/", "/chat"],
    distinct_sids: true,
  });
  assert.deepEqual(step(lines, "welcome"), {
    welcome: {
      "/": { nsp: "/", user: "py", id_is_sid: true },
      "/chat": { nsp: "/chat", user: "py", id_is_sid: true },
    },
  });
  assert.deepEqual(step(lines, "add"), { result: [5, "sum"] });
  assert.deepEqual(step(lines, "server-ack"), {
    question: "what is 6*7?",
    answer_seen_by_server: "42",
  });
  assert.deepEqual(step(lines, "bin"), {
    result: { size: 256, reversed: { bytes: hex(ALL_BYTES.toReversed()) } },
  });
  assert.deepEqual(step(lines, "bin-nested"), { result: "ok" });
  assert.deepEqual(step(lines, "server-bin"), {
    received: [
      { bytes: "010203" },
      { inner: [{ bytes: Buffer.from("héllo").toString("hex") }, { bytes: "" }], n: 7 },
    ],
    ack_seen_by_server: { bytes: "030201" },
  });
  assert.deepEqual(step(lines, "chat"), { result: "/chat:hi", room: "to room1" });
  assert.deepEqual(step(lines, "left-chat"), { namespaces: ["/"], still_adds: [2, "sum"] });
  assert.deepEqual(step(lines, "done"), { connected: false });
}

/**
 * How the server may see the client's final `disconnect()`: python-socketio queues a DISCONNECT
 * packet and then aborts its Engine.IO transport without waiting for the packet to be written, so
 * the server sees the packet, or the transport's end (closed, or reset mid-frame).
 */
const FINAL_REASONS = ["client namespace disconnect", "transport close", "transport error"];

/** What the server must have seen, per namespace and in order. */
function expectServerSide(seen: ServerEvent[]): void {
  const auth = { token: "secret", user: "py" };
  const inNsp = (name: string) =>
    seen.filter((e) => e.nsp === name).map(({ event, args }) => ({ event, args }));
  const main = inNsp("/");
  const last = main.pop();
  assert.equal(last?.event, "disconnect");
  assert.ok(FINAL_REASONS.includes(String(last?.args[0])), `final reason: ${last?.args[0]}`);
  assert.deepEqual(main, [
    { event: "connection", args: [auth] },
    { event: "hello", args: ["text ✓", { n: 1, nested: [1, null, true] }] },
    { event: "add", args: [2, 3] },
    { event: "question-ack", args: ["42"] },
    { event: "bin", args: [{ bytes: hex(ALL_BYTES) }] },
    {
      event: "bin-nested",
      args: [{ a: { bytes: "0001" }, list: [{ bytes: "ff" }, "text", { bytes: "" }] }],
    },
    { event: "server-bin-ack", args: [{ bytes: "030201" }] },
    { event: "add", args: [1, 1] },
  ]);
  assert.deepEqual(inNsp("/chat"), [
    { event: "connection", args: [auth] },
    { event: "chat", args: ["hi"] },
    { event: "disconnect", args: ["server namespace disconnect"] },
  ]);
}

/** "upgrade": python's default, polling first and then the upgrade to WebSocket. */
const runs = ["sync_client.py", "async_client.py"].flatMap((script) =>
  ["polling", "websocket", "upgrade"].map((mode) => ({ script, mode })),
);

describe("python3-socketio client -> subject server", () => {
  let subject: RunningSubject;
  let seen: ServerEvent[];

  before(async () => {
    subject = await startSubject();
    seen = installScenario(subject.io);
  });
  after(() => subject.close());

  for (const { script, mode } of runs) {
    it(`${script}, transports ${mode}: auth, emits, acks both ways, binary both ways, namespaces, disconnects`, async () => {
      seen.length = 0;
      const { lines, code, stderr } = await runPython(script, [subject.url, mode], scripts, 30000);
      assert.equal(code, 0, `python failed; lines ${JSON.stringify(lines)}; stderr:\n${stderr}`);
      expectPythonSide(lines, mode === "upgrade" ? "websocket" : mode);
      // The client's DISCONNECT packet and the end of its transport race its exit.
      await waitUntil(
        () => seen.some((e) => e.nsp === "/" && e.event === "disconnect"),
        5000,
        "the server to see the client disconnect",
      );
      expectServerSide(seen);
      await waitUntil(
        () => subject.io.engine.clientsCount === 0,
        5000,
        "every Engine.IO session (the refused client's too) to end",
      );
    });
  }
});

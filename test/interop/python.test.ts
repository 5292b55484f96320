/**
 * Interop with python3-websockets (Debian's 10.4): it is a client of the server under test, and a
 * server for the client under test. The Python side reports what it saw as JSON lines
 * (test/interop/python/*.py); both sides' observations are asserted here.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startEchoServer } from "../helpers/echo-server.js";
import { MessageQueue } from "../helpers/message-queue.js";
import { type JsonLine, type PythonProcess, runPython, startPython } from "../helpers/python.js";
import { WebSocket } from "../helpers/subject.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

const scripts = fileURLToPath(new URL("./python/", import.meta.url));
const MAX_SIZE = 64 * 1024 * 1024;

type Variant = "off" | "default" | "no-context-takeover" | "small-windows";

/** What python's side of a negotiated permessage-deflate reports (local = python's side). */
interface PythonDeflate {
  name: string;
  remote_no_context_takeover: boolean;
  local_no_context_takeover: boolean;
  remote_max_window_bits: number | null;
  local_max_window_bits: number | null;
}

function step(lines: JsonLine[], name: string): JsonLine {
  const line = lines.find((l) => l.step === name);
  assert.ok(
    line,
    `python reported no "${name}" step; got ${JSON.stringify(lines.map((l) => l.step))}`,
  );
  return line;
}

/** What the server under test saw of one connection. */
interface ServerSide {
  protocol: string;
  extensions: string;
  pongs: string[];
  close?: { code: number; reason: string };
}

describe("python-websockets client -> subject server", () => {
  const serverDeflate: Record<Variant, false | object> = {
    off: false,
    default: { threshold: 0 },
    "no-context-takeover": {
      threshold: 0,
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
    },
    "small-windows": { threshold: 0 },
  };

  // 16 MiB messages in two runs; the other two keep the suite short on a 2-core machine.
  const runs: Array<{ variant: Variant; closeBy: "client" | "server"; largeMiB: number }> = [
    { variant: "default", closeBy: "client", largeMiB: 16 },
    { variant: "off", closeBy: "server", largeMiB: 16 },
    { variant: "no-context-takeover", closeBy: "server", largeMiB: 2 },
    { variant: "small-windows", closeBy: "client", largeMiB: 2 },
  ];

  for (const { variant, closeBy, largeMiB } of runs) {
    it(`deflate ${variant}, closed by the ${closeBy}: every step as sent`, async () => {
      const seen: ServerSide[] = [];
      let markClosed!: () => void;
      const closed = new Promise<void>((resolve) => {
        markClosed = resolve;
      });
      const server = await startEchoServer(
        {
          perMessageDeflate: serverDeflate[variant],
          maxPayload: MAX_SIZE,
          handleProtocols: (offered: Set<string>) => (offered.has("chat.v2") ? "chat.v2" : false),
        },
        (socket) => {
          const record: ServerSide = {
            protocol: socket.protocol,
            extensions: socket.extensions,
            pongs: [],
          };
          seen.push(record);
          // The echo helper already echoes; these commands replace the echo for two texts.
          socket.removeAllListeners("message");
          socket.on("message", (data, isBinary) => {
            const text = isBinary ? "" : data.toString();
            if (text === "ping-me") socket.ping("from-node");
            else if (text === "close-me") socket.close(4001, "node bye");
            else socket.send(data, { binary: isBinary });
          });
          socket.on("pong", (payload: Buffer) => {
            record.pongs.push(payload.toString());
            socket.send(`pinged:${payload.toString()}`);
          });
          socket.on("close", (code: number, reason: Buffer) => {
            record.close = { code, reason: reason.toString() };
            markClosed();
          });
        },
      );
      try {
        const { lines, code, stderr } = await runPython(
          "client.py",
          [`${server.url}/python`, variant, closeBy, String(largeMiB)],
          scripts,
          90000,
        );
        assert.equal(code, 0, `python client failed:\n${stderr}`);
        await withTimeout(closed, 10000, "the server to see the close");

        const open = step(lines, "open");
        assert.equal(open.subprotocol, "chat.v2");
        const extensions = open.extensions as PythonDeflate[];
        if (variant === "off") assert.deepEqual(extensions, []);
        else assert.equal(extensions[0]?.name, "permessage-deflate");
        if (variant === "no-context-takeover") {
          assert.equal(extensions[0].local_no_context_takeover, true, "client_no_context_takeover");
          assert.equal(
            extensions[0].remote_no_context_takeover,
            true,
            "server_no_context_takeover",
          );
        }
        if (variant === "small-windows") {
          assert.equal(extensions[0].remote_max_window_bits, 10, "server_max_window_bits");
          assert.equal(extensions[0].local_max_window_bits, 9, "client_max_window_bits");
        }

        assert.deepEqual(step(lines, "text"), {
          step: "text",
          type: "str",
          value: "héllo wörld κόσμε 𝄞",
        });
        assert.deepEqual(step(lines, "binary"), {
          step: "binary",
          type: "bytes",
          hex: "000102fdfeff",
        });
        assert.deepEqual(step(lines, "empty-text"), { step: "empty-text", type: "str", value: "" });
        assert.deepEqual(step(lines, "empty-binary"), {
          step: "empty-binary",
          type: "bytes",
          hex: "",
        });
        assert.deepEqual(step(lines, "large-binary"), {
          step: "large-binary",
          type: "bytes",
          length: largeMiB * 1024 * 1024,
          same: true,
        });
        assert.deepEqual(step(lines, "large-text"), {
          step: "large-text",
          type: "str",
          length: largeMiB * 1024 * 1024,
          same: true,
        });
        assert.deepEqual(step(lines, "fragmented-text"), {
          step: "fragmented-text",
          type: "str",
          value: "frag-1 frag-2 κόσμε end",
        });
        assert.deepEqual(step(lines, "fragmented-binary"), {
          step: "fragmented-binary",
          type: "bytes",
          hex: "00010203",
        });
        assert.deepEqual(step(lines, "ping"), { step: "ping", ok: true });
        assert.deepEqual(step(lines, "server-ping"), {
          step: "server-ping",
          value: "pinged:from-node",
        });

        assert.equal(seen.length, 1);
        const record = seen[0];
        assert.equal(record.protocol, "chat.v2");
        if (variant === "off") assert.equal(record.extensions, "");
        else assert.match(record.extensions, /permessage-deflate/);
        assert.deepEqual(record.pongs, ["from-node"]);
        const closedStep = step(lines, "closed");
        if (closeBy === "client") {
          assert.deepEqual(
            record.close,
            { code: 4000, reason: "py bye" },
            "close seen by the server",
          );
          assert.equal(closedStep.code, 4000, "close code python got back");
        } else {
          assert.deepEqual(
            record.close,
            { code: 4001, reason: "node bye" },
            "close seen by the server",
          );
          assert.deepEqual(closedStep, { step: "closed", code: 4001, reason: "node bye" });
        }
      } finally {
        await server.close();
      }
    });
  }
});

/** Connects the client under test to the python server; error events are recorded, not thrown. */
async function connect(port: number, path: string, deflate: boolean) {
  const client = new WebSocket(`ws://127.0.0.1:${port}${path}`, ["chat.v1", "chat.v2"], {
    perMessageDeflate: deflate,
    maxPayload: MAX_SIZE,
  });
  const errors: Error[] = [];
  client.on("error", (error: Error) => errors.push(error));
  // Recorded from the start: a ping may arrive in the same TCP read as the 101 response.
  const pings: Buffer[] = [];
  client.on("ping", (payload: Buffer) => pings.push(payload));
  const messages = new MessageQueue(client);
  await nextEvent(client, "open", 10000);
  return { client, errors, pings, messages };
}

async function closeAndWait(client: InstanceType<typeof WebSocket>, code: number, reason: string) {
  const closed = nextEvent<[number, Buffer]>(client, "close", 10000);
  client.close(code, reason);
  const [gotCode, gotReason] = await closed;
  return { code: gotCode, reason: gotReason.toString() };
}

for (const variant of ["default", "off", "no-context-takeover", "small-windows"] as const) {
  describe(`subject client -> python-websockets server (deflate ${variant})`, () => {
    let python: PythonProcess;
    let port: number;
    const deflate = variant !== "off";

    before(async () => {
      python = startPython("server.py", [variant], scripts);
      const line = await python.waitForLine(
        (l) => typeof l.port === "number",
        20000,
        "the listening port",
      );
      port = line.port as number;
    });
    after(() => python.stop());

    const closedLine = (path: string) =>
      python.waitForLine(
        (l) => l.event === "closed" && l.path === path,
        10000,
        `the close of ${path}`,
      );

    it("echo: subprotocol, extension parameters, text, binary, empty, fragmented, ping, close", async () => {
      const { client, messages } = await connect(port, "/echo", deflate);
      assert.equal(client.protocol, "chat.v2");
      const open = await python.waitForLine(
        (l) => l.event === "open" && l.path === "/echo",
        5000,
        "open",
      );
      const extensions = open.extensions as PythonDeflate[];
      if (!deflate) {
        assert.deepEqual(extensions, []);
        assert.equal(client.extensions, "");
      } else {
        assert.equal(extensions[0]?.name, "permessage-deflate");
        assert.match(client.extensions, /permessage-deflate/);
      }
      if (variant === "no-context-takeover") {
        assert.equal(extensions[0].local_no_context_takeover, true);
        assert.equal(extensions[0].remote_no_context_takeover, true);
      }
      if (variant === "small-windows") {
        assert.equal(extensions[0].local_max_window_bits, 10, "server_max_window_bits");
        assert.equal(extensions[0].remote_max_window_bits, 9, "client_max_window_bits");
      }

      for (const [payload, isBinary] of [
        ["héllo κόσμε 𝄞", false],
        [Buffer.from([0, 1, 254, 255]), true],
        ["", false],
        [Buffer.alloc(0), true],
      ] as const) {
        client.send(payload);
        const got = await messages.next(20000);
        assert.equal(got.isBinary, isBinary);
        assert.deepEqual(got.data, Buffer.from(payload));
      }

      const big = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
      client.send(big);
      const gotBig = await messages.next(30000);
      assert.equal(gotBig.isBinary, true);
      assert.ok(gotBig.data.equals(big), "16 MiB echo differs");

      client.send("one ", { fin: false });
      client.send("two κό", { fin: false });
      client.send("σμε", { fin: true });
      assert.deepEqual(await messages.next(), {
        data: Buffer.from("one two κόσμε"),
        isBinary: false,
      });

      const ponged = nextEvent<[Buffer]>(client, "pong", 5000);
      client.ping("node-ping");
      assert.equal((await ponged)[0].toString(), "node-ping");

      assert.deepEqual(await closeAndWait(client, 4000, "node bye"), {
        code: 4000,
        reason: "node bye",
      });
      const closed = await closedLine("/echo");
      assert.equal(closed.code, 4000);
      assert.equal(closed.reason, "node bye");
    });

    it("receives python's fragmented text and binary messages whole", async () => {
      const { client, messages } = await connect(port, "/fragments", deflate);
      const first = await messages.next();
      const second = await messages.next();
      assert.deepEqual(first, { data: Buffer.from("alpha beta γάμμα"), isBinary: false });
      assert.deepEqual(second, { data: Buffer.from([0, 1, 2]), isBinary: true });
      await closeAndWait(client, 1000, "");
      assert.equal((await closedLine("/fragments")).code, 1000);
    });

    it("answers python's ping with its payload", async () => {
      const { client, pings } = await connect(port, "/ping", deflate);
      await python.waitForLine((l) => l.event === "pong" && l.path === "/ping", 10000, "the pong");
      assert.deepEqual(
        pings.map((p) => p.toString()),
        ["py-server-ping"],
      );
      await closeAndWait(client, 1000, "");
      assert.equal((await closedLine("/ping")).code, 1000);
    });

    it("receives a 16 MiB message intact", async () => {
      const { client, messages } = await connect(port, "/big", deflate);
      const got = await messages.next(30000);
      const announced = await python.waitForLine((l) => l.event === "big", 5000, "the hash");
      assert.equal(got.isBinary, true);
      assert.equal(got.data.length, announced.length);
      assert.equal(createHash("sha256").update(got.data).digest("hex"), announced.sha256);
      await closeAndWait(client, 1000, "");
    });

    it("python closes with 4002 and a reason: the client sees both and echoes the code", async () => {
      const { client } = await connect(port, "/close", deflate);
      const closed = nextEvent<[number, Buffer]>(client, "close", 10000);
      client.send("hello");
      const [code, reason] = await closed;
      assert.deepEqual(
        { code, reason: reason.toString() },
        { code: 4002, reason: "py server bye" },
      );
      const line = await closedLine("/close");
      assert.equal(line.code, 4002, "the code python got back in the client's close reply");
    });

    it("a refused handshake (403) gives an error, then close 1006, and no open", async () => {
      const client = new WebSocket(`ws://127.0.0.1:${port}/reject`);
      let opened = false;
      client.on("open", () => {
        opened = true;
      });
      const errored = nextEvent<[Error]>(client, "error", 10000);
      const closed = nextEvent<[number]>(client, "close", 10000);
      const [error] = await errored;
      assert.match(error.message, /403/);
      assert.equal((await closed)[0], 1006);
      assert.equal(opened, false);
    });
  });
}

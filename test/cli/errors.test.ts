/**
 * What the command says when something is wrong: one line on stderr naming the problem, and an
 * exit code scripts can rely on (2 for bad usage, 1 for everything else).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { WebSocketServer as WsServer } from "ws";
import { closedPort, occupyPort, runCli } from "./helpers.js";

const cleanup: (() => void)[] = [];
after(() => {
  for (const undo of cleanup) undo();
});

/** The first line on stderr, which must carry the whole message. */
function firstLine(stderr: string): string {
  return stderr.split("\n", 1)[0];
}

describe("bad usage: exit 2 with the usage", { concurrency: 4 }, () => {
  const cases: [string, string[], RegExp][] = [
    ["no command", [], /^duplexio: missing <command>$/],
    ["an unknown command", ["bogus"], /^duplexio: unknown command "bogus"$/],
    ["an unknown flag", ["echo", "--bogus"], /^duplexio: unknown option --bogus$/],
    ["a flag without its value", ["echo", "--port"], /^duplexio: --port needs a value$/],
    ["a bad port", ["echo", "--port", "70000"], /^duplexio: invalid port "70000"$/],
    [
      "a bad --max-payload",
      ["echo", "--max-payload", "lots"],
      /^duplexio: invalid max-payload "lots"/,
    ],
    ["a stray argument", ["echo", "extra"], /^duplexio: unexpected argument "extra"$/],
    ["connect without a URL", ["connect"], /^duplexio: missing <url>$/],
    [
      "an unknown connect flag",
      ["connect", "ws://x", "--nope"],
      /^duplexio: unknown option --nope$/,
    ],
    ["an invalid URL", ["connect", "ws://exa mple"], /^duplexio: invalid URL "ws:\/\/exa mple"$/],
    ["an unsupported scheme", ["connect", "ftp://x"], /^duplexio: unsupported URL scheme "ftp:"/],
    [
      "a malformed header",
      ["connect", "ws://x", "--header", "novalue"],
      /^duplexio: invalid header "novalue"/,
    ],
    [
      "--auth that is not a JSON object",
      ["connect", "http://x", "--socketio", "--auth", "[1]"],
      /^duplexio: --auth must be a JSON object/,
    ],
    [
      "--auth that is not JSON",
      ["connect", "http://x", "--socketio", "--auth", "{token}"],
      /^duplexio: --auth is not JSON/,
    ],
    [
      "a Socket.IO flag without --socketio",
      ["connect", "ws://x", "--namespace", "/a"],
      /^duplexio: --namespace needs --socketio$/,
    ],
    [
      "a bad --timeout",
      ["connect", "ws://x", "--timeout", "soon"],
      /^duplexio: invalid --timeout "soon"/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(firstLine(result.stderr), message);
      assert.match(result.stderr, /\nUsage: duplexio/);
    });
  }
});

describe("runtime failures: one line, exit 1", () => {
  test("echo on a port in use", async () => {
    const { server, port } = await occupyPort();
    cleanup.push(() => server.close());
    const result = await runCli(["echo", "--port", String(port)]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `duplexio: port ${port} on 127.0.0.1 is already in use\n`);
  });

  test("connect to a port nobody listens on: connection refused", async () => {
    const port = await closedPort();
    const result = await runCli(["connect", `ws://127.0.0.1:${port}/`]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `duplexio: cannot connect to ws://127.0.0.1:${port}/: connection refused\n`,
    );
    assert.equal(result.stdout, "");
  });

  test("connect --socketio to a port nobody listens on: connection refused", async () => {
    const port = await closedPort();
    for (const transport of ["polling", "websocket"]) {
      const result = await runCli([
        "connect",
        "--socketio",
        `http://127.0.0.1:${port}`,
        "--transport",
        transport,
      ]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `duplexio: cannot connect to http://127.0.0.1:${port}/: connection refused\n`,
      );
    }
  });

  test("connect to a plain HTTP server: it did not upgrade, HTTP 200", async () => {
    const server = createServer((_request, response) => response.end("<h1>hello</h1>"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const result = await runCli(["connect", `ws://127.0.0.1:${port}/`]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "duplexio: server did not upgrade: HTTP 200 OK\n");
  });

  test("connect --socketio to a plain HTTP server: it says so, with the status, exit 1", async () => {
    const server = createServer((_request, response) => response.end("<h1>hello</h1>"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}/socket.io/`;
    const expected = {
      // Its page is no Engine.IO handshake...
      polling: `duplexio: ${endpoint} answered 200 OK with something other than Engine.IO: is this a Socket.IO server? check --path\n`,
      // ... and it answers the WebSocket handshake without switching protocols.
      websocket: `duplexio: ${endpoint} answered 200 OK: is this a Socket.IO server? check --path\n`,
    };
    for (const transport of ["polling", "websocket"] as const) {
      const result = await runCli([
        "connect",
        "--socketio",
        `http://127.0.0.1:${port}`,
        "--transport",
        transport,
      ]);
      assert.equal(result.code, 1, `${transport}: ${result.stderr}`);
      assert.equal(result.stderr, expected[transport]);
    }
  });

  test("connect to a server refusing the handshake: HTTP 403 Forbidden", async () => {
    const server = new WsServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (_info, done) => done(false, 403),
    });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    cleanup.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const result = await runCli(["connect", `ws://127.0.0.1:${port}/`]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "duplexio: handshake refused: HTTP 403 Forbidden\n");
  });

  test("connect to a server that never answers the handshake: timed out", async () => {
    // Accepts TCP connections and reads, never answers.
    const { server, port } = await occupyPort();
    server.removeAllListeners("connection");
    const sockets: import("node:net").Socket[] = [];
    server.on("connection", (socket) => sockets.push(socket));
    cleanup.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const result = await runCli(["connect", `ws://127.0.0.1:${port}/`, "--timeout", "300"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `duplexio: cannot connect to ws://127.0.0.1:${port}/: no handshake answer within 300 ms\n`,
    );
  });
});

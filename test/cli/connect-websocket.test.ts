/**
 * `duplexio connect <url>` in WebSocket mode, driven through its stdin as a script would: against
 * `duplexio echo` (also spawned) and against servers from the `ws` package that record what they
 * see (close codes, headers, subprotocols).
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, describe, test } from "node:test";
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from "ws";
import { CliProcess, printedLines, runCli, startServerCommand, WAIT_MS } from "./helpers.js";

const cleanup: (() => void)[] = [];
after(() => {
  for (const undo of cleanup) undo();
});

async function echoUrl(...flags: string[]): Promise<string> {
  const { cli, port } = await startServerCommand(["echo", "--port", "0", ...flags]);
  cleanup.push(() => cli.kill());
  return `ws://127.0.0.1:${port}/`;
}

/** A `ws` server that records its connections, their requests and how they closed. */
interface Recorder {
  url: string;
  connections: { socket: WsSocket; request: IncomingMessage; received: string[] }[];
  closes: Promise<{ code: number; reason: string }>[];
  connected: Promise<void>;
}

async function startRecorder(
  onConnection?: (socket: WsSocket) => void,
  options: ConstructorParameters<typeof WsServer>[0] = {},
): Promise<Recorder> {
  const server = new WsServer({ host: "127.0.0.1", port: 0, ...options });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  cleanup.push(() => {
    for (const client of server.clients) client.terminate();
    server.close();
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const recorder: Recorder = {
    url: `ws://127.0.0.1:${port}/`,
    connections: [],
    closes: [],
    connected: Promise.resolve(),
  };
  recorder.connected = new Promise((resolve) => {
    server.on("connection", (socket, request) => {
      const entry = { socket, request, received: [] as string[] };
      recorder.connections.push(entry);
      socket.on("message", (data) => entry.received.push(String(data)));
      recorder.closes.push(
        new Promise((done) =>
          socket.on("close", (code, reason) => done({ code, reason: reason.toString() })),
        ),
      );
      onConnection?.(socket);
      resolve();
    });
  });
  return recorder;
}

describe("duplexio connect (WebSocket)", () => {
  test("piped lines are sent; the echoes are printed with timestamps; exit 0 after the input", async () => {
    const url = await echoUrl();
    const result = await runCli(["connect", url], "hello\nsecond line\n//slash\n");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const lines = printedLines(result.stdout);
    // Every output line carries a timestamp.
    assert.equal(lines.length, result.stdout.trimEnd().split("\n").length);
    assert.match(lines[0][1], /^connected to ws:\/\/127\.0\.0\.1:\d+\/ \(no subprotocol, /);
    const received = lines.filter(([direction]) => direction === "<").map(([, text]) => text);
    assert.deepEqual(received, ["hello", "second line", "/slash"]);
    const sent = lines.filter(([direction]) => direction === ">").map(([, text]) => text);
    assert.deepEqual(sent, ["hello", "second line", "/slash"]);
    assert.deepEqual(lines.at(-1), ["*", "closed: 1000"]);
  });

  test("/ping shows the pong; /binary is echoed as hex with its length (--base64 as base64)", async () => {
    const url = await echoUrl();
    const hex = await runCli(["connect", url], "/ping hi there\n/binary 00ff10\n");
    assert.equal(hex.code, 0, hex.stderr);
    const received = printedLines(hex.stdout).filter(([d]) => d === "<");
    assert.deepEqual(
      received.map(([, text]) => text),
      ["pong hi there", "binary (3 bytes): 00ff10"],
    );
    // A ping without data, on its own: RFC 6455 lets a server answer only the last of pings sent
    // back to back, so the two are not sent together.
    const bare = await runCli(["connect", url], "/ping\n");
    assert.equal(bare.code, 0, bare.stderr);
    assert.deepEqual(
      printedLines(bare.stdout)
        .filter(([d]) => d === "<")
        .map(([, text]) => text),
      ["pong"],
    );
    const base64 = await runCli(["connect", url, "--base64"], "/binary 00ff10\n");
    assert.equal(base64.code, 0, base64.stderr);
    assert.match(base64.stdout, /< binary \(3 bytes, base64\): AP8Q\n/);
  });

  test("/close 4000 bye: the server sees code 4000 and reason bye; lines after it are not sent", async () => {
    const recorder = await startRecorder();
    const result = await runCli(["connect", recorder.url], "one\n/close 4000 bye\ntwo\n");
    assert.equal(result.code, 0, result.stderr);
    await recorder.connected;
    assert.deepEqual(await recorder.closes[0], { code: 4000, reason: "bye" });
    assert.deepEqual(recorder.connections[0].received, ["one"]);
    assert.match(result.stdout, /> close 4000 bye\n/);
    assert.match(result.stdout, /\* not sent: the connection is closing\n/);
    assert.match(result.stdout, /\* closed: 4000/);
  });

  test("/close with a code browsers may not send is refused, and the session goes on", async () => {
    const url = await echoUrl();
    const result = await runCli(["connect", url], "/close 1006\nstill here\n");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\* cannot close: .*1006/);
    assert.match(result.stdout, /< still here\n/);
  });

  test("prints the negotiated subprotocol and extensions; sends --header headers", async () => {
    const recorder = await startRecorder(undefined, { perMessageDeflate: true });
    const result = await runCli(
      [
        "connect",
        recorder.url,
        "--protocol",
        "chat.v2",
        "--protocol",
        "chat.v1",
        "--header",
        "X-Token: abc 123",
        "--header",
        "Authorization: Bearer t",
      ],
      "",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /\* connected to ws:\/\/127\.0\.0\.1:\d+\/ \(subprotocol chat\.v2, extensions permessage-deflate[^)]*\)\n/,
    );
    await recorder.connected;
    const { headers } = recorder.connections[0].request;
    assert.equal(headers["x-token"], "abc 123");
    assert.equal(headers.authorization, "Bearer t");
    assert.equal(headers["sec-websocket-protocol"], "chat.v2, chat.v1");
  });

  test("binary and text sent by the server are told apart", async () => {
    const recorder = await startRecorder((socket) => {
      socket.send(Buffer.from("hi"), { binary: true });
      socket.send("two\nlines");
      socket.close(1000, "done");
    });
    const cli = new CliProcess(["connect", recorder.url]);
    cleanup.push(() => cli.kill());
    const result = await cli.waitForExit();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /< binary \(2 bytes\): 6869\n/);
    assert.match(result.stdout, /< two\nlines\n/);
    assert.match(result.stdout, /\* closed: 1000 done \(by the server\)\n/);
  });

  test("the server closing with an error code, or dropping the connection, exits 1", async () => {
    const failing = await startRecorder((socket) => socket.close(1011, "oops"));
    const closedByServer = new CliProcess(["connect", failing.url]);
    cleanup.push(() => closedByServer.kill());
    const first = await closedByServer.waitForExit();
    assert.equal(first.code, 1);
    assert.match(first.stdout, /\* closed: 1011 oops \(by the server\)\n/);

    const dropping = await startRecorder((socket) => socket.terminate());
    const dropped = new CliProcess(["connect", dropping.url]);
    cleanup.push(() => dropped.kill());
    const second = await dropped.waitForExit();
    assert.equal(second.code, 1);
    assert.match(second.stdout, /\* closed: 1006/);
  });

  test("SIGINT closes with code 1000 (the server sees it) and exits 0", async () => {
    const recorder = await startRecorder();
    const cli = new CliProcess(["connect", recorder.url]);
    cleanup.push(() => cli.kill());
    await cli.waitForOutput(/\* connected to /);
    cli.child.stdin.write("before the signal\n");
    await cli.waitForOutput(/> before the signal\n/);
    cli.child.kill("SIGINT");
    const result = await cli.waitForExit();
    assert.equal(result.code, 0, result.stderr);
    await recorder.connected;
    assert.equal((await recorder.closes[0]).code, 1000);
    assert.deepEqual(recorder.connections[0].received, ["before the signal"]);
    assert.match(result.stdout, /\* closed: 1000\n$/);
  });

  test("SIGTERM closes cleanly too", async () => {
    const recorder = await startRecorder();
    const cli = new CliProcess(["connect", recorder.url]);
    cleanup.push(() => cli.kill());
    await cli.waitForOutput(/\* connected to /);
    cli.child.kill("SIGTERM");
    assert.equal((await cli.waitForExit()).code, 0);
    assert.equal((await recorder.closes[0]).code, 1000);
  });

  test("--wait keeps printing after the input ends", async () => {
    const recorder = await startRecorder((socket) => {
      socket.on("message", () => setTimeout(() => socket.send("late"), 100));
    });
    const result = await runCli(["connect", recorder.url, "--wait", "1.5"], "ping\n", WAIT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /< late\n/);
  });

  test("--help prints the options and exits 0", async () => {
    const result = await runCli(["connect", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: duplexio connect <url>/);
    assert.match(result.stdout, /emit <event> \[json \.\.\.\]/);
    assert.match(result.stdout, /emit join "room1"/);
  });
});

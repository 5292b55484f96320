/**
 * `duplexio echo` driven as a user would: the built command in a child process, a client from the
 * `ws` package (someone else's implementation) talking to it.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import WebSocket from "ws";
import { type CliProcess, runCli, startServerCommand, WAIT_MS } from "./helpers.js";

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

async function startEcho(...flags: string[]): Promise<{ cli: CliProcess; url: string }> {
  const { cli, port } = await startServerCommand(["echo", "--port", "0", ...flags]);
  running.push(cli);
  return { cli, url: `ws://127.0.0.1:${port}/` };
}

function open(url: string, options?: WebSocket.ClientOptions): Promise<WebSocket> {
  const socket = new WebSocket(url, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no open")), WAIT_MS);
    socket.once("open", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message")), WAIT_MS);
    socket.once("message", (data, isBinary) => {
      clearTimeout(timer);
      resolve({ data: data as Buffer, isBinary });
    });
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no close")), WAIT_MS);
    socket.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

describe("duplexio echo", () => {
  test("prints where it listens; text comes back as text, binary as binary", async () => {
    const { cli, url } = await startEcho();
    assert.match(cli.stdout, /^duplexio echo listening on ws:\/\/127\.0\.0\.1:\d+\/\n$/);
    const socket = await open(url, { perMessageDeflate: false });
    socket.send("héllo");
    const text = await nextMessage(socket);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), "héllo");
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    socket.send(bytes);
    const binary = await nextMessage(socket);
    assert.equal(binary.isBinary, true);
    assert.deepEqual(binary.data, bytes);
    // An empty text message is still a text message.
    socket.send("");
    const empty = await nextMessage(socket);
    assert.equal(empty.isBinary, false);
    assert.equal(empty.data.length, 0);
    assert.equal(socket.extensions, "");
    socket.close(1000);
    assert.equal((await closed(socket)).code, 1000);
  });

  test("--deflate negotiates permessage-deflate (and compressed messages round-trip)", async () => {
    const { cli, url } = await startEcho("--deflate");
    assert.match(cli.stdout, /\(permessage-deflate\)/);
    const socket = await open(url, { perMessageDeflate: { threshold: 0 } });
    assert.match(socket.extensions, /^permessage-deflate/);
    const big = "compress me ".repeat(1000);
    socket.send(big);
    const echoed = await nextMessage(socket);
    assert.equal(echoed.isBinary, false);
    assert.equal(echoed.data.toString(), big);
    socket.close();
    await closed(socket);
  });

  test("without --deflate nothing is negotiated even when offered", async () => {
    const { url } = await startEcho();
    const socket = await open(url);
    assert.equal(socket.extensions, "");
    socket.close();
    await closed(socket);
  });

  test("--max-payload: a larger message closes the connection with 1009", async () => {
    const { url } = await startEcho("--max-payload", "16");
    const socket = await open(url, { perMessageDeflate: false });
    socket.send("x".repeat(16));
    assert.equal((await nextMessage(socket)).data.toString(), "x".repeat(16));
    const outcome = closed(socket);
    socket.send("y".repeat(17));
    assert.equal((await outcome).code, 1009);
  });

  test("SIGTERM mid-stream: echoes arrive in order, then a close frame (1001); exit 0", async () => {
    const { cli, url } = await startEcho();
    const socket = await open(url, { perMessageDeflate: false });
    const received: string[] = [];
    const first = nextMessage(socket);
    socket.on("message", (data) => received.push(String(data)));
    const outcome = closed(socket);
    for (let i = 0; i < 500; i++) socket.send(`m${i}`);
    await first;
    cli.child.kill("SIGTERM");
    const { code } = await outcome;
    // A clean close (not 1006): the server said goodbye after what it had already echoed.
    assert.equal(code, 1001);
    assert.ok(received.length >= 1);
    assert.deepEqual(
      received,
      Array.from({ length: received.length }, (_, i) => `m${i}`),
    );
    const result = await cli.waitForExit();
    assert.equal(result.code, 0);
  });

  test("SIGINT exits 0 too", async () => {
    const { cli } = await startEcho();
    cli.child.kill("SIGINT");
    assert.equal((await cli.waitForExit()).code, 0);
  });

  test("--help prints the options and exits 0", async () => {
    const result = await runCli(["echo", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: duplexio echo/);
    assert.match(result.stdout, /--max-payload/);
  });
});

/**
 * `duplexio serve` (what `npm start` runs), driven as a user would: the built command, a browser's
 * requests (fetch), and `duplexio connect` as the chat's and the plain WebSocket panel's client.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type CliProcess, occupyPort, runCli, startServerCommand } from "./helpers.js";

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

async function startServe(command = "serve"): Promise<{ cli: CliProcess; base: string }> {
  const { cli, port } = await startServerCommand([command, "--port", "0"]);
  running.push(cli);
  return { cli, base: `http://127.0.0.1:${port}` };
}

describe("duplexio serve", () => {
  test("serves the chat page at / and Prometheus metrics at /metrics; SIGTERM exits 0", async () => {
    const { cli, base } = await startServe();
    await cli.waitForOutput(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await page.text(), /<title>duplexio chat/);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await metrics.text(), /^# HELP duplexio_/m);
    cli.child.kill("SIGTERM");
    const result = await cli.waitForExit();
    assert.equal(result.code, 0, result.stderr);
  });

  test("start is an alias of serve", async () => {
    const { cli, base } = await startServe("start");
    assert.match(cli.stdout, /^duplexio demo: open http:\/\/127\.0\.0\.1:\d+\/ in a browser\n/);
    assert.equal((await fetch(`${base}/`)).status, 200);
    cli.child.kill("SIGINT");
    assert.equal((await cli.waitForExit()).code, 0);
  });

  test("connect --socketio talks to the chat: welcome, join and a message with their acks", async () => {
    const { base } = await startServe();
    const result = await runCli(
      ["connect", "--socketio", base, "--auth", '{"nickname":"cli"}', "--wait", "0.3"],
      'emit join "room1"\nemit message {"room":"room1","text":"hi from the terminal"}\n',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /< welcome \{"nickname":"cli","rooms":\["lobby"\]/);
    assert.match(result.stdout, /< ack of join \{"ok":true,"room":"room1","members":\["cli"\]\}/);
    assert.match(
      result.stdout,
      /< ack of message \{"ok":true,"message":\{[^}]*"text":"hi from the terminal"/,
    );
  });

  test("the chat refuses a connection without a nickname: its message, exit 1", async () => {
    const { base } = await startServe();
    const result = await runCli(["connect", "--socketio", base]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^duplexio: the server refused the connection: .+\n$/);
  });

  test("the plain WebSocket endpoint: subprotocol chat.v1, echo; SIGTERM closes it with 1001", async () => {
    const { cli: server, base } = await startServe();
    const url = `${base.replace(/^http/, "ws")}/ws`;
    const client = await startServerCommand(["connect", url, "--protocol", "chat.v1"]);
    running.push(client.cli);
    await client.cli.waitForOutput(/\* connected to .*\(subprotocol chat\.v1, /);
    client.cli.child.stdin.write("hello demo\n");
    await client.cli.waitForOutput(/< hello demo\n/);
    server.child.kill("SIGTERM");
    const closed = await client.cli.waitForExit();
    // The server said goodbye (1001, going away): a normal end for the client too.
    assert.match(closed.stdout, /\* closed: 1001 .*\(by the server\)\n/);
    assert.equal(closed.code, 0);
    assert.equal((await server.waitForExit()).code, 0);
  });

  test("a port in use: one line, exit 1", async () => {
    const { server, port } = await occupyPort();
    try {
      const result = await runCli(["serve", "--port", String(port)]);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `duplexio: port ${port} on 127.0.0.1 is already in use\n`);
    } finally {
      server.close();
    }
  });

  test("--help prints the options and exits 0", async () => {
    const result = await runCli(["serve", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: duplexio serve/);
  });
});

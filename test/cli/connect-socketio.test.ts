/**
 * `duplexio connect --socketio <url>` against a duplexio Socket.IO server started here (on
 * 127.0.0.1, port 0), driven through the command's stdin.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Server, type Socket } from "../../src/index.js";
import { CliProcess, printedLines, runCli, WAIT_MS } from "./helpers.js";

let io: Server;
let url: string;
/** Per connection: its handshake and how it ended, as the server saw it. */
const seen: { socket: Socket; disconnect: Promise<string> }[] = [];
const running: CliProcess[] = [];

before(async () => {
  const http = createServer();
  io = new Server(http);
  const track = (socket: Socket) => {
    seen.push({
      socket,
      disconnect: new Promise((resolve) => socket.on("disconnect", (reason) => resolve(reason))),
    });
  };
  io.on("connection", (socket) => {
    track(socket);
    socket.on("join", (room: unknown, ack: unknown) => {
      socket.join(String(room));
      // The event goes out before the acknowledgement, so it is printed first.
      socket.emit("joined", room, { members: 1 });
      if (typeof ack === "function") ack("ok", room);
    });
    socket.on("message", (text: unknown) => socket.emit("echo", text, Buffer.from([1, 2, 255])));
    socket.on("ask", (ack: unknown) => {
      socket.emit("question", "why?", () => {});
      if (typeof ack === "function") ack();
    });
    socket.on("kick", () => socket.disconnect(true));
    // "silent" has no handler: its acknowledgement never comes.
  });
  io.of("/chat")
    .use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown };
      if (auth.token === "secret") next();
      else {
        const error = new Error("not authorized") as Error & { data?: unknown };
        error.data = { need: "token" };
        next(error);
      }
    })
    .on("connection", (socket) => {
      track(socket);
      socket.on("whoami", (ack: unknown) => {
        if (typeof ack === "function")
          ack({ nsp: socket.nsp.name, token: socket.handshake.headers["x-token"] });
      });
    });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  for (const cli of running) cli.kill();
  await new Promise<void>((resolve) => io.close(() => resolve()));
});

function received(stdout: string): string[] {
  return printedLines(stdout)
    .filter(([direction]) => direction === "<")
    .map(([, text]) => text);
}

describe("duplexio connect --socketio", () => {
  for (const transport of [[], ["--transport", "websocket"], ["--transport", "polling"]]) {
    const name = transport.length === 0 ? "default transports" : transport[1];
    test(`emit with an ack, events printed with JSON args, clean disconnect (${name})`, async () => {
      const before = seen.length;
      const result = await runCli(
        ["connect", "--socketio", url, ...transport],
        // The message goes first: its echo is out before the ack, and the ack is the last thing
        // the command waits for before disconnecting.
        'hello there\nemit join "room1"\n',
      );
      assert.equal(result.code, 0, result.stderr);
      const lines = printedLines(result.stdout);
      assert.match(
        lines[0][1],
        /^connected to http:\/\/127\.0\.0\.1:\d+\/ \(namespace \/, socket id \S+, transport (polling|websocket)\)$/,
      );
      if (transport.length > 0)
        assert.match(lines[0][1], new RegExp(`transport ${transport[1]}\\)`));
      const id = /socket id (\S+),/.exec(lines[0][1])?.[1];
      assert.equal(id, seen[before].socket.id);
      assert.deepEqual(received(result.stdout), [
        'echo "hello there" {"binary":"0102ff","bytes":3}',
        'joined "room1" {"members":1}',
        'ack of join "ok" "room1"',
      ]);
      const sent = lines.filter(([d]) => d === ">").map(([, text]) => text);
      assert.deepEqual(sent, ['message "hello there"', 'emit join "room1"']);
      assert.deepEqual(lines.at(-1), ["*", "disconnected: io client disconnect"]);
      // The server got the DISCONNECT packet: a deliberate leave, not a lost connection.
      assert.equal(await seen[before].disconnect, "client namespace disconnect");
    });
  }

  test("--namespace, --auth and --header reach the server", async () => {
    const result = await runCli(
      [
        "connect",
        "--socketio",
        url,
        "--namespace",
        "/chat",
        "--auth",
        '{"token":"secret"}',
        "--header",
        "X-Token: t1",
      ],
      "emit whoami\n",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\(namespace \/chat, socket id /);
    assert.deepEqual(received(result.stdout), ['ack of whoami {"nsp":"/chat","token":"t1"}']);
  });

  test("a refusal by the server's middleware: its connect_error message, exit 1", async () => {
    const result = await runCli(["connect", "--socketio", `${url}/chat`], "");
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'duplexio: the server refused the connection: not authorized {"need":"token"}\n',
    );
  });

  test("an unanswered emit reports the timeout; bad emit lines are explained, not sent", async () => {
    const result = await runCli(
      ["connect", "--socketio", url, "--ack-timeout", "300", "--transport", "websocket"],
      'emit silent 1\nemit join room1\nemit\nemit connect\nemit join "r" {"a":\n',
    );
    assert.equal(result.code, 0, result.stderr);
    const news = printedLines(result.stdout)
      .filter(([d]) => d === "*")
      .map(([, text]) => text);
    assert.ok(news.includes("no ack of silent within 300 ms"), news.join("\n"));
    assert.ok(
      news.includes("argument 1 is not JSON: room1 (strings need double quotes)"),
      news.join("\n"),
    );
    assert.ok(news.some((text) => text.startsWith("usage: emit <event>")));
    assert.ok(news.includes('not sent: "connect" is a reserved event name'), news.join("\n"));
    assert.ok(news.includes('argument 2 is not closed: {"a":'), news.join("\n"));
    assert.deepEqual(received(result.stdout), []);
  });

  test("events that ask for an acknowledgement say so", async () => {
    const result = await runCli(["connect", "--socketio", url], "emit ask\n");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(received(result.stdout), [
      'question "why?" (the server asks for an acknowledgement; none is sent)',
      "ack of ask",
    ]);
  });

  test("the upgrade from polling is printed with the transport's name", async () => {
    const cli = new CliProcess(["connect", "--socketio", url]);
    running.push(cli);
    await cli.waitForOutput(/\* connected to .*transport polling\)/);
    const [, name] = await cli.waitForOutput(/\* transport upgraded to (.+)\n/);
    assert.equal(name, "websocket");
    cli.child.stdin.end();
    assert.equal((await cli.waitForExit()).code, 0);
  });

  test("a disconnect by the server is printed; exit 0", async () => {
    const cli = new CliProcess(["connect", "--socketio", url, "--transport", "websocket"]);
    running.push(cli);
    await cli.waitForOutput(/\* connected to /);
    cli.child.stdin.write("emit kick\n");
    const result = await cli.waitForExit();
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /\* disconnected: io server disconnect\n.* \* no ack of kick \(disconnected\)\n$/,
    );
  });

  test("SIGINT disconnects cleanly (the server sees the client leave) and exits 0", async () => {
    const before = seen.length;
    const cli = new CliProcess(["connect", "--socketio", url]);
    running.push(cli);
    await cli.waitForOutput(/\* connected to /);
    cli.child.kill("SIGINT");
    const result = await cli.waitForExit(WAIT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await seen[before].disconnect, "client namespace disconnect");
    assert.match(result.stdout, /\* disconnected: io client disconnect\n$/);
  });
});

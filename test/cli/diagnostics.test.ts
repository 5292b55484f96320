/**
 * The command helping a user who got something wrong: `--version`, "did you mean" for mistyped
 * commands and flags, `connect --socketio` against something that is not a Socket.IO server (or
 * not at that path) saying so with the HTTP status, and `connect` in WebSocket mode against a
 * Socket.IO server suggesting `--socketio`. Real servers: a plain HTTP server, duplexio's and the
 * official socket.io server, a `ws` WebSocketServer.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Server as SocketIoServer } from "socket.io";
import { WebSocketServer as WsServer } from "ws";
import { Server } from "../../src/index.js";
import { waitUntil } from "../helpers/timing.js";
import { runCli } from "./helpers.js";

const version = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

describe("duplexio --version", () => {
  test("prints package.json's version, exit 0", async () => {
    for (const flag of ["--version", "-v"]) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
      assert.equal(result.stderr, "");
    }
  });
});

describe("did you mean: mistyped commands and flags, exit 2", { concurrency: 4 }, () => {
  const cases: [string[], string][] = [
    [["conect", "ws://x"], 'unknown command "conect": did you mean "connect"?'],
    [["serv"], 'unknown command "serv": did you mean "serve"?'],
    [["--verison"], "unknown option --verison: did you mean --version?"],
    [["connect", "ws://x", "--protcol", "p"], "unknown option --protcol: did you mean --protocol?"],
    [["connect", "http://x", "--socketIO"], "unknown option --socketIO: did you mean --socketio?"],
    [["connect", "http://x", "--ack", "5"], "unknown option --ack: did you mean --ack-timeout?"],
    [["echo", "--deflat"], "unknown option --deflat: did you mean --deflate?"],
    [["echo", "--max-paylod=9"], "unknown option --max-paylod: did you mean --max-payload?"],
    // Nothing close: no guess.
    [["connect", "ws://x", "--zzz"], "unknown option --zzz"],
    [["frobnicate"], 'unknown command "frobnicate"'],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.split("\n", 1)[0], `duplexio: ${message}`);
      assert.equal(result.stdout, "");
    });
  }
});

/** A listening HTTP server on 127.0.0.1 and its port. */
async function listen(server: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

for (const kind of ["duplexio", "socket.io"] as const) {
  describe(`duplexio connect against a ${kind} Socket.IO server`, () => {
    let http: HttpServer;
    let io: Server;
    let port: number;
    before(async () => {
      http = createServer((_request, response) => response.writeHead(404).end("Not Found"));
      io = kind === "duplexio" ? new Server(http) : (new SocketIoServer(http) as unknown as Server);
      port = await listen(http);
    });
    after(async () => {
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      });
    });

    const suggestion = () =>
      `a Socket.IO server answers at /socket.io/: try "duplexio connect --socketio http://127.0.0.1:${port}/"`;

    test("plain WebSocket at /socket.io/: the refusal with its reason, and --socketio suggested", async () => {
      const result = await runCli(["connect", `ws://127.0.0.1:${port}/socket.io/`]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `duplexio: handshake refused: HTTP 400 Bad Request (Transport unknown); ${suggestion()}\n`,
      );
      // The session the check opened is closed at once, not left to time out.
      await waitUntil(() => io.engine.clientsCount === 0, 2000, "the probe's session closing");
    });

    test("plain WebSocket at the root: the hang-up, and --socketio suggested", async () => {
      const result = await runCli(["connect", `ws://127.0.0.1:${port}`]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `duplexio: cannot connect to ws://127.0.0.1:${port}/: connection reset by the server; ${suggestion()}\n`,
      );
    });

    test("--socketio with a wrong --path: the 404, is this a Socket.IO server? check --path", async () => {
      const result = await runCli([
        "connect",
        "--socketio",
        `http://127.0.0.1:${port}`,
        "--path",
        "/sockets",
        "--transport",
        "polling",
      ]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `duplexio: http://127.0.0.1:${port}/sockets/ answered 404 Not Found: is this a Socket.IO server? check --path\n`,
      );
      // Over WebSocket the server hangs up instead of answering 404.
      const websocket = await runCli([
        "connect",
        "--socketio",
        `http://127.0.0.1:${port}`,
        "--path",
        "/sockets",
        "--transport",
        "websocket",
      ]);
      assert.equal(websocket.code, 1);
      assert.equal(
        websocket.stderr,
        `duplexio: cannot connect to http://127.0.0.1:${port}/: connection reset by the server (is this a Socket.IO server? check --path)\n`,
      );
    });

    test("a refusal by the server (allowRequest) shows its status and reason", async () => {
      const refusing = createServer();
      const server =
        kind === "duplexio"
          ? new Server(refusing, {
              allowRequest: (_r, callback) => callback("closed for maintenance", false),
            })
          : (new SocketIoServer(refusing, {
              allowRequest: (_r, callback) => callback("closed for maintenance", false),
            }) as unknown as Server);
      const refusingPort = await listen(refusing);
      try {
        const result = await runCli([
          "connect",
          "--socketio",
          `http://127.0.0.1:${refusingPort}`,
          "--transport",
          "polling",
        ]);
        assert.equal(result.code, 1);
        assert.equal(
          result.stderr,
          `duplexio: http://127.0.0.1:${refusingPort}/socket.io/ answered 403 Forbidden: closed for maintenance\n`,
        );
      } finally {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          refusing.closeAllConnections();
        });
      }
    });
  });
}

describe("duplexio connect: no --socketio suggestion where there is no Socket.IO server", () => {
  test("a plain WebSocket server refusing the handshake, a plain web page", async () => {
    const ws = new WsServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (_info, done) => done(false, 401, "Who are you"),
    });
    await new Promise<void>((resolve) => ws.once("listening", () => resolve()));
    const page = createServer((_request, response) => response.end("<h1>hello</h1>"));
    const pagePort = await listen(page);
    try {
      const { port } = ws.address() as AddressInfo;
      const refused = await runCli(["connect", `ws://127.0.0.1:${port}/`]);
      assert.equal(refused.code, 1);
      // The body's words, as the server's reason.
      assert.equal(
        refused.stderr,
        "duplexio: handshake refused: HTTP 401 Unauthorized (Who are you)\n",
      );
      const plain = await runCli(["connect", `ws://127.0.0.1:${pagePort}/chat`]);
      assert.equal(plain.code, 1);
      assert.equal(plain.stderr, "duplexio: server did not upgrade: HTTP 200 OK\n");
    } finally {
      ws.close();
      page.closeAllConnections();
      page.close();
    }
  });
});

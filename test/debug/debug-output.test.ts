/**
 * `DEBUG=duplexio:*` output: the `debug` package's pattern syntax (src/protocol/debug.ts), then a
 * Socket.IO server and duplexio's Node client each in a child process, with DEBUG set and unset:
 * a connect, an emit with its acknowledgement, a namespace refused by a middleware and a refused
 * Engine.IO handshake print their lines on stderr when on, and nothing at all when off.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createDebugLog, debugEnabled, debugPreview } from "../../src/protocol/debug.js";
import { fixtureEnv, startChildServer } from "../helpers/child-server.js";
import { withTimeout } from "../helpers/timing.js";

const serverFixture = fileURLToPath(new URL("./fixtures/socketio-server.ts", import.meta.url));
const clientFixture = fileURLToPath(new URL("./fixtures/socketio-client.ts", import.meta.url));

describe("debug patterns", () => {
  it("follow the debug package: lists, wildcards, exclusions", () => {
    assert.equal(debugEnabled("duplexio:*", "duplexio:engine"), true);
    assert.equal(debugEnabled("*", "duplexio:socket.io"), true);
    assert.equal(debugEnabled("duplexio:engine", "duplexio:engine"), true);
    assert.equal(debugEnabled("duplexio:engine", "duplexio:engine2"), false);
    assert.equal(debugEnabled("express:*", "duplexio:engine"), false);
    assert.equal(debugEnabled("express:*, duplexio:engine", "duplexio:engine"), true);
    assert.equal(debugEnabled("express:* duplexio:*", "duplexio:client"), true);
    assert.equal(debugEnabled("duplexio:*,-duplexio:adapter", "duplexio:adapter"), false);
    assert.equal(debugEnabled("-duplexio:adapter,duplexio:*", "duplexio:adapter"), false);
    assert.equal(debugEnabled("duplexio:*,-duplexio:adapter", "duplexio:engine"), true);
    assert.equal(debugEnabled("*,-*:engine", "duplexio:engine"), false);
    // The dot of "socket.io" is literal, as are other regular-expression characters.
    assert.equal(debugEnabled("duplexio:socket.io", "duplexio:socketxio"), false);
    assert.equal(debugEnabled("duplexio:(engine|client)", "duplexio:engine"), false);
    assert.equal(debugEnabled("", "duplexio:engine"), false);
    assert.equal(debugEnabled(" , -", "duplexio:engine"), false);
  });

  it("make no logger when off, and time each line from the previous one", () => {
    assert.equal(
      createDebugLog("duplexio:engine", undefined, () => assert.fail()),
      undefined,
    );
    assert.equal(
      createDebugLog("duplexio:engine", "duplexio:client", () => assert.fail()),
      undefined,
    );
    const lines: [string, string, number][] = [];
    const log = createDebugLog("duplexio:engine", "duplexio:*", (...line) => lines.push(line));
    assert.ok(log);
    log("one");
    log("two");
    assert.deepEqual(lines[0], ["duplexio:engine", "one", 0]);
    assert.equal(lines[1]?.[1], "two");
    assert.ok((lines[1]?.[2] ?? -1) >= 0);
  });

  it("preview packets: short text quoted, long text cut, binary as its size", () => {
    assert.equal(debugPreview('2["chat"]'), '"2[\\"chat\\"]"');
    assert.equal(debugPreview(new Uint8Array(3)), "<3 bytes>");
    assert.equal(debugPreview(undefined), "");
    const long = debugPreview("x".repeat(1000));
    assert.ok(long.length < 120, long);
    assert.match(long, /\.\.\. \(1000 chars\)$/);
  });
});

/** What the client process printed: its result on stdout, its debug lines on stderr. */
interface ClientRun {
  result: { reply: string; refused: string };
  stderr: string;
}

/** Runs the client fixture against `url`; resolves with its stdout result and its stderr. */
function runClient(url: string, env: Record<string, string | undefined>): Promise<ClientRun> {
  const child = spawn(process.execPath, ["--import", "tsx", clientFixture, url], {
    env: fixtureEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return withTimeout(
    new Promise<ClientRun>((resolve, reject) => {
      child.once("exit", (code) => {
        if (code !== 0) reject(new Error(`client exited with ${code}: ${stderr}`));
        else resolve({ result: JSON.parse(stdout), stderr });
      });
    }),
    30_000,
    "the client process",
  ).finally(() => child.kill());
}

/** The status a WebSocket upgrade with `key` to the Socket.IO path gets. */
function upgradeStatus(port: number, key: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        path: "/socket.io/?EIO=4&transport=websocket",
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": key,
        },
      });
      req.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on("upgrade", (_response, socket) => {
        socket.destroy();
        reject(new Error("upgraded"));
      });
      req.on("error", reject);
      req.end();
    }),
    10_000,
    "the upgrade's answer",
  );
}

/** A connect, an emit, a refused namespace and a refused Engine.IO handshake, with `env`. */
async function scenario(env: Record<string, string | undefined>) {
  const server = await startChildServer(serverFixture, env);
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const client = await runClient(url, env);
    assert.deepEqual(client.result, { reply: "echo: hello", refused: "not authorized" });
    // A WebSocket upgrade with a malformed key: refused by the WebSocket layer.
    assert.equal(await upgradeStatus(server.port, "not a key"), 400);
    const refused = await fetch(`${url}/socket.io/?EIO=4&transport=carrier-pigeon`);
    assert.equal(refused.status, 400);
    await refused.text();
    // An Engine.IO session that never polls again: its heartbeat is missed.
    const silent = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(silent.status, 200);
    await silent.text();
    // The server writes its lines as things happen; the last one is the silent session's
    // missed heartbeat when duplexio:engine is on, else the WebSocket layer's refusal.
    const patterns = env.DEBUG ?? "";
    const last = debugEnabled(patterns, "duplexio:engine")
      ? "heartbeat missed"
      : debugEnabled(patterns, "duplexio:websocket")
        ? "handshake refused"
        : null;
    const deadline = Date.now() + 5000;
    while (last !== null && !server.stderr().includes(last) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { server: server.stderr(), client: client.stderr };
  } finally {
    await server.stop();
  }
}

/** The lines of `output` that match `pattern`. */
function linesMatching(output: string, pattern: RegExp): string[] {
  return output.split("\n").filter((line) => pattern.test(line));
}

describe("DEBUG in a server and a client process", () => {
  it("prints each layer's lines with DEBUG=duplexio:*, one line each, no colors in a pipe", async () => {
    const { server, client } = await scenario({ DEBUG: "duplexio:*", DEBUG_COLORS: undefined });
    // Not a terminal: an ISO date first, the namespace, the message, +Nms; no escape codes.
    for (const line of server.trimEnd().split("\n")) {
      assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z duplexio:[a-z.]+ .+ \+\d+ms$/, line);
    }
    assert.ok(!(server + client).includes("\u001b"), "no escape codes");
    // The connect: over polling, then the upgrade to a WebSocket of the same session.
    const [accepted] = linesMatching(
      server,
      /duplexio:engine handshake accepted: session \S+ over polling \(protocol 4\)/,
    );
    const sid = accepted?.match(/session (\S+)/)?.[1];
    assert.ok(sid, server);
    assert.equal(
      linesMatching(
        server,
        new RegExp(
          `duplexio:websocket handshake accepted: /socket\\.io/\\?EIO=4&transport=websocket&sid=${sid}`,
        ),
      ).length,
      1,
      server,
    );
    assert.equal(
      linesMatching(server, /duplexio:engine session \S+: upgraded from polling to websocket/)
        .length,
      1,
      server,
    );
    assert.equal(
      linesMatching(server, /duplexio:socket\.io socket \S+ connected to \/ /).length,
      1,
    );
    // The emit and its acknowledgement, at each layer.
    assert.equal(
      linesMatching(
        server,
        /duplexio:socket\.io client \S+: packet in EVENT \/ id 0 "\[\\"chat\\",\\"hello\\"\]"/,
      ).length,
      1,
      server,
    );
    assert.equal(
      linesMatching(
        server,
        /duplexio:socket\.io client \S+: packet out ACK \/ id 0 "\[\\"echo: hello\\"\]"/,
      ).length,
      1,
      server,
    );
    assert.equal(
      linesMatching(server, /duplexio:engine session \S+: packet in message "20\[/).length,
      1,
    );
    assert.equal(linesMatching(server, /duplexio:websocket server message in: "420\[/).length, 1);
    // The namespace refused by its middleware, and the refused Engine.IO handshake.
    assert.equal(
      linesMatching(server, /duplexio:socket\.io connection to \/private refused: not authorized/)
        .length,
      1,
      server,
    );
    assert.equal(
      linesMatching(server, /duplexio:websocket handshake refused: 400 .*Sec-WebSocket-Key/).length,
      1,
      server,
    );
    assert.equal(
      linesMatching(
        server,
        /duplexio:engine handshake refused: Transport unknown, GET \/socket\.io\/\?EIO=4&transport=carrier-pigeon/,
      ).length,
      1,
      server,
    );
    // The broadcast, at the adapter.
    assert.equal(
      linesMatching(server, /duplexio:adapter broadcast EVENT \/ "\[\\"news\\",\\"hello\\"\]" to /)
        .length,
      1,
      server,
    );
    // The session that stopped polling.
    assert.equal(
      linesMatching(
        server,
        /duplexio:engine session \S+: heartbeat missed \(no pong within 300 ms\)/,
      ).length,
      1,
      server,
    );
    // The client's side.
    assert.equal(linesMatching(client, /duplexio:client \/ connected: \S+/).length, 1, client);
    assert.equal(
      linesMatching(client, /duplexio:client \/private refused: not authorized/).length,
      1,
    );
    assert.equal(linesMatching(client, /duplexio:websocket client message out: "420\[/).length, 1);
  });

  it("prints nothing without DEBUG, or when the patterns exclude duplexio", async () => {
    for (const DEBUG of [undefined, "express:*", "*,-duplexio:*"]) {
      const { server, client } = await scenario({ DEBUG });
      assert.equal(server, "", `server, DEBUG=${DEBUG}`);
      assert.equal(client, "", `client, DEBUG=${DEBUG}`);
    }
  });

  it("prints with DEBUG='*', and leaves out excluded namespaces", async () => {
    const everything = await scenario({ DEBUG: "*" });
    assert.match(everything.server, / duplexio:engine handshake refused: Transport unknown/);
    assert.match(everything.client, / duplexio:client \/ connected/);
    const some = await scenario({ DEBUG: "duplexio:*,-duplexio:websocket,-duplexio:engine" });
    assert.doesNotMatch(some.server, /duplexio:(websocket|engine) /);
    assert.match(some.server, /duplexio:socket\.io connection to \/private refused/);
  });

  it("colors the namespace and +ms like debug when asked (DEBUG_COLORS, as on a terminal)", async () => {
    const { server } = await scenario({ DEBUG: "duplexio:socket.io", DEBUG_COLORS: "1" });
    // Escape codes shown as "ESC" to be matched.
    const line = (linesMatching(server, /connected to \//)[0] ?? "").replaceAll("\u001b", "ESC");
    assert.match(
      line,
      /^ {2}ESC\[3\d;1mduplexio:socket\.io ESC\[0msocket \S+ connected to \/ .*ESC\[3\dm\+\d+msESC\[0m$/,
    );
  });
});

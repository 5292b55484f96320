/**
 * A polling POST whose body the server refuses (over maxHttpBufferSize: 413; for an unknown
 * session: 400), sent by raw TCP clients that really send the whole body, 100 MiB of it: the
 * client must read the answer, whether it reads while sending or only once it has sent everything
 * (as simple HTTP clients and load generators do), and never see its connection reset. The
 * server reads and drops the rest of the body for a bounded time; nothing of it is kept.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { LINGER_IDLE_MS, LINGER_MAX_MS } from "../../src/engine/http-answer.js";
import { pollingHandshake, startServer, type TestServer } from "./helpers.js";

const MIB = 1024 * 1024;
const BODY = 100 * MIB;
const CHUNK = Buffer.alloc(64 * 1024, "a");
const CRLF = Buffer.from("\r\n");

/** What a raw client saw. */
interface Outcome {
  /** The first bytes it read (the status line and headers). */
  head: string;
  /** The socket error (EPIPE, ECONNRESET), if any. */
  error: string | null;
  /** The server closed politely (FIN). */
  sawEnd: boolean;
  /** Body bytes written before giving up or finishing. */
  sent: number;
  /** Milliseconds from the first body byte to the close. */
  closedAfterMs: number;
}

interface ClientPlan {
  /** The request line and headers, without the final empty line. */
  head: string;
  /** Body bytes to send (Content-Length, or the total of the chunks). */
  body: number;
  /** "after": the client reads nothing until it has sent everything (a blocking client). */
  read: "while-sending" | "after";
  /** Send the body with chunked transfer encoding. */
  chunked?: boolean;
  /** Stop sending (keeping the connection open) once the answer arrived, as curl does. */
  stopOnAnswer?: boolean;
  /** Milliseconds between chunks (0: as fast as the server takes them). */
  pauseMs?: number;
}

/** Runs one raw client to the end (the connection closed) or 20 s. */
function rawPost(port: number, plan: ClientPlan): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    if (plan.read === "after") socket.pause();
    let head = "";
    let error: string | null = null;
    let sawEnd = false;
    let sent = 0;
    let began = 0;
    let closed = false;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 20 s; read ${JSON.stringify(head.slice(0, 40))}`));
    }, 20_000);
    socket.on("data", (chunk: Buffer) => {
      if (head.length < 512) head += chunk.toString("latin1");
    });
    socket.on("end", () => {
      sawEnd = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on("close", () => {
      closed = true;
      clearTimeout(guard);
      resolve({ head, error, sawEnd, sent, closedAfterMs: performance.now() - began });
    });
    const framing = plan.chunked
      ? "Transfer-Encoding: chunked\r\n"
      : `Content-Length: ${plan.body}\r\n`;
    socket.write(`${plan.head}\r\n${framing}\r\n`);
    void (async () => {
      began = performance.now();
      // Like a load generator: write, and wait only when the socket asks to (backpressure).
      while (sent < plan.body && !closed && !socket.destroyed) {
        if (plan.stopOnAnswer && head.length > 0) break;
        const piece = CHUNK.subarray(0, Math.min(CHUNK.length, plan.body - sent));
        const ok = socket.write(
          plan.chunked
            ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF])
            : piece,
        );
        sent += piece.length;
        if (plan.pauseMs) await new Promise((r) => setTimeout(r, plan.pauseMs));
        else if (!ok) {
          await new Promise<void>((r) => {
            const done = (): void => {
              socket.off("drain", done);
              socket.off("close", done);
              r();
            };
            socket.on("drain", done);
            socket.on("close", done);
          });
        }
      }
      if (plan.chunked && sent >= plan.body && !socket.destroyed) socket.write("0\r\n\r\n");
      // A blocking client reads once its request is out.
      if (plan.read === "after") socket.resume();
    })();
  });
}

function postLine(sid: string): string {
  return `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8`;
}

describe("a refused polling POST, its body really sent", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 10_000 });
  });
  after(() => server.close());

  async function stillServes(): Promise<void> {
    const { open } = await pollingHandshake(server.port);
    assert.ok(open.sid);
  }

  for (const read of ["after", "while-sending"] as const) {
    it(`100 MiB with its Content-Length, the client reading ${read === "after" ? "only after sending it all" : "while sending"}: it reads the 413, no reset (3 times)`, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const { sid } = await pollingHandshake(server.port);
        const outcome = await rawPost(server.port, { head: postLine(sid), body: BODY, read });
        assert.match(
          outcome.head,
          /^HTTP\/1\.1 413 /,
          `attempt ${attempt}: ${JSON.stringify(outcome)}`,
        );
        assert.match(outcome.head, /\r\nConnection: close\r\n/i);
        assert.equal(outcome.error, null, `attempt ${attempt}: the connection was reset`);
        assert.ok(outcome.sawEnd, "closed with a FIN");
        assert.equal(outcome.sent, BODY, "the whole body went out");
        assert.ok(!server.engine.clients.has(sid), "the session ended");
      }
      await stillServes();
    });
  }

  it("100 MiB in chunks (no Content-Length), read after sending: 413, no reset", async () => {
    const { sid } = await pollingHandshake(server.port);
    const outcome = await rawPost(server.port, {
      head: postLine(sid),
      body: BODY,
      read: "after",
      chunked: true,
    });
    assert.match(outcome.head, /^HTTP\/1\.1 413 /, JSON.stringify(outcome));
    assert.equal(outcome.error, null);
    assert.ok(!server.engine.clients.has(sid));
    await stillServes();
  });

  it("a 32 MiB POST to an unknown session with Connection: close, read after sending: the 400 arrives", async () => {
    const outcome = await rawPost(server.port, {
      head: `${postLine("nope")}\r\nConnection: close`,
      body: 32 * MIB,
      read: "after",
    });
    assert.match(outcome.head, /^HTTP\/1\.1 400 /, JSON.stringify(outcome));
    assert.ok(outcome.head.endsWith('{"code":1,"message":"Session ID unknown"}'), outcome.head);
    assert.equal(outcome.error, null);
  });

  it(`a client that stops sending after the 413 is closed ${LINGER_IDLE_MS} ms later, politely`, async () => {
    const { sid } = await pollingHandshake(server.port);
    const outcome = await rawPost(server.port, {
      head: postLine(sid),
      body: BODY,
      read: "while-sending",
      stopOnAnswer: true,
    });
    assert.match(outcome.head, /^HTTP\/1\.1 413 /);
    assert.ok(outcome.sent < BODY);
    assert.equal(outcome.error, null);
    assert.ok(outcome.sawEnd);
    assert.ok(
      outcome.closedAfterMs >= LINGER_IDLE_MS - 100 &&
        outcome.closedAfterMs < LINGER_IDLE_MS + 2000,
      `closed after ${outcome.closedAfterMs} ms`,
    );
  });

  it(`a client that never stops sending is cut after ${LINGER_MAX_MS} ms`, async () => {
    const { sid } = await pollingHandshake(server.port);
    const outcome = await rawPost(server.port, {
      head: postLine(sid),
      body: 1024 * MIB,
      read: "while-sending",
      pauseMs: 20,
    });
    assert.match(outcome.head, /^HTTP\/1\.1 413 /);
    assert.ok(
      outcome.closedAfterMs >= LINGER_MAX_MS - 100 && outcome.closedAfterMs < LINGER_MAX_MS + 2500,
      `closed after ${outcome.closedAfterMs} ms`,
    );
    await stillServes();
  });
});

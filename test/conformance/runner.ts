/**
 * Runs conformance cases in both directions:
 * - {@link runAgainstServer}: a raw-socket fuzzing client against a server under test;
 * - {@link FuzzingServer}: a raw-socket fuzzing server that a client under test connects to.
 * Each run is bounded: the case itself by its timeout, the end of the connection by KILL_MS.
 */
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { acceptKeyFor, parseResponseHead } from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/timing.js";
import { type CaseResult, type ConformanceCase, judge, sameEvents } from "./case.js";
import { answerOffer, checkServerAnswer, parseExtensions } from "./extension-negotiation.js";
import { FuzzSession, type NegotiatedDeflate } from "./fuzz-session.js";

/** How long the fuzzer waits for the peer to close TCP after a case (Autobahn: killAfter). */
const KILL_MS = 3000;

/** Reads from `socket` until a blank line; returns the head and the bytes after it. */
function readHead(socket: Socket, ms: number): Promise<{ head: string; rest: Buffer }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.pause();
        resolve({
          head: buffered.subarray(0, end).toString("latin1"),
          rest: buffered.subarray(end + 4),
        });
      };
      socket.on("data", onData);
      socket.once("close", () => reject(new Error("connection closed during the handshake")));
    }),
    ms,
    "the handshake",
  );
}

/** Runs the case on an established session: Autobahn's finishWhenDone, the case, killAfter. */
async function drive(
  testCase: ConformanceCase,
  session: FuzzSession,
  killMs = KILL_MS,
): Promise<{ behavior: CaseResult["behavior"]; detail: string }> {
  const expectations = [
    testCase.expected.ok,
    ...(testCase.expected.nonStrict ? [testCase.expected.nonStrict] : []),
  ];
  session.onEvent = () => {
    // Close once the events match every expectation (the only one, in practice), as Autobahn does.
    if (
      testCase.expectedClose.closedByMe &&
      !testCase.informational &&
      expectations.every((e) => sameEvents(session.events, e))
    ) {
      void session.sendClose(testCase.expectedClose.codes[0]);
    }
  };
  let timedOut = false;
  await withTimeout(
    testCase.run(session),
    testCase.timeoutMs ?? 10000,
    `case ${testCase.id}`,
  ).catch(() => {
    timedOut = true;
  });
  await session.killAfter(killMs);
  const verdict = judge(testCase, session);
  if (timedOut && verdict.behavior !== "FAILED") {
    return { behavior: "FAILED", detail: `the case did not finish in time; ${verdict.detail}` };
  }
  return verdict;
}

/**
 * Runs one case as a fuzzing client against the server at 127.0.0.1:`port`; `killMs` bounds the
 * wait for the server to close TCP at the end.
 */
export async function runAgainstServer(
  testCase: ConformanceCase,
  port: number,
  killMs = KILL_MS,
): Promise<CaseResult> {
  const started = Date.now();
  const done = (behavior: CaseResult["behavior"], detail: string): CaseResult => ({
    id: testCase.id,
    behavior,
    detail,
    ms: Date.now() - started,
  });
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => socket.destroy());
  try {
    await withTimeout(new Promise((resolve) => socket.once("connect", resolve)), 5000, "connect");
    const key = randomBytes(16).toString("base64");
    const lines = [
      `GET /runCase?case=${testCase.id} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
    ];
    if (testCase.deflate) lines.push(`Sec-WebSocket-Extensions: ${testCase.deflate.clientOffer}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    const { head, rest } = await readHead(socket, 5000);
    const response = parseResponseHead(head);
    if (response.status !== 101) return done("FAILED", `handshake answered ${response.status}`);
    if (response.headers["sec-websocket-accept"] !== acceptKeyFor(key))
      return done("FAILED", "wrong Sec-WebSocket-Accept");
    const answer = response.headers["sec-websocket-extensions"] ?? "";
    let deflate: NegotiatedDeflate | null = null;
    if (testCase.deflate) {
      const checked = checkServerAnswer(parseExtensions(testCase.deflate.clientOffer), answer);
      if (checked.problem)
        return done("FAILED", `invalid permessage-deflate answer "${answer}": ${checked.problem}`);
      deflate = checked.deflate;
    } else if (answer !== "") {
      return done("FAILED", `extension accepted without an offer: ${answer}`);
    }
    const session = new FuzzSession(socket, "client", deflate, rest);
    socket.resume();
    if (testCase.deflate && !deflate) {
      await session.sendClose(1000);
      await session.killAfter(KILL_MS);
      return done("UNIMPLEMENTED", "the server declined permessage-deflate for this offer");
    }
    const verdict = await drive(testCase, session, killMs);
    return done(verdict.behavior, verdict.detail);
  } catch (error) {
    return done("FAILED", (error as Error).message);
  } finally {
    socket.destroy();
  }
}

/** What the client under test needs to connect for one case. */
export interface ClientRun {
  url: string;
  /** permessage-deflate options for the client (false: offer nothing). */
  perMessageDeflate: false | Record<string, number | boolean>;
}

/**
 * A fuzzing server. For each case, {@link FuzzingServer.run} hands the client under test a URL;
 * the server answers that connection's handshake and drives the case against it.
 */
export class FuzzingServer {
  private server: Server | undefined;
  private port = 0;
  private readonly waiting = new Map<string, (socket: Socket) => void>();

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      socket.on("error", () => socket.destroy());
      readHead(socket, 5000)
        .then(({ head, rest }) => {
          const path = /^GET (\S+) HTTP\/1\.1/.exec(head)?.[1] ?? "";
          const id = new URL(path, "ws://x").searchParams.get("case") ?? "";
          const waiter = this.waiting.get(id);
          if (!waiter) {
            socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
            return;
          }
          this.waiting.delete(id);
          const tagged = socket as Socket & { head?: string; rest?: Buffer };
          tagged.head = head;
          tagged.rest = rest;
          waiter(socket);
        })
        .catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  /**
   * Runs one case: `startClient` must connect a client under test (an echo client) to the given
   * URL and return a promise of its `close` event.
   */
  async run(
    testCase: ConformanceCase,
    startClient: (run: ClientRun) => Promise<unknown>,
  ): Promise<CaseResult> {
    const started = Date.now();
    const done = (behavior: CaseResult["behavior"], detail: string): CaseResult => ({
      id: testCase.id,
      behavior,
      detail,
      ms: Date.now() - started,
    });
    const arrived = withTimeout(
      new Promise<Socket>((resolve) => this.waiting.set(testCase.id, resolve)),
      5000,
      "the client to connect",
    );
    const clientClosed = startClient({
      url: `ws://127.0.0.1:${this.port}/runCase?case=${testCase.id}`,
      perMessageDeflate: testCase.deflate ? testCase.deflate.subjectClientOptions : false,
    });
    let socket: Socket | undefined;
    try {
      socket = await arrived;
      const { head, rest } = socket as Socket & { head: string; rest: Buffer };
      const request = parseResponseHead(head.replace(/^GET [^\r]*/, "HTTP/1.1 000"));
      const key = request.headers["sec-websocket-key"] ?? "";
      if (
        request.headers["sec-websocket-version"] !== "13" ||
        Buffer.from(key, "base64").length !== 16
      ) {
        return done("FAILED", `malformed client handshake:\n${head}`);
      }
      const offer = request.headers["sec-websocket-extensions"] ?? "";
      let deflate: NegotiatedDeflate | null = null;
      const responseLines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Accept: ${acceptKeyFor(key)}`,
      ];
      if (testCase.deflate) {
        const answer = answerOffer(offer, testCase.deflate.serverResponse);
        if (!answer) {
          socket.destroy();
          return done(
            "UNIMPLEMENTED",
            `the client offered no permessage-deflate (offer: "${offer}")`,
          );
        }
        responseLines.push(`Sec-WebSocket-Extensions: ${answer.header}`);
        deflate = answer.deflate;
      }
      socket.write(`${responseLines.join("\r\n")}\r\n\r\n`);
      const session = new FuzzSession(socket, "server", deflate, rest);
      socket.resume();
      const verdict = await drive(testCase, session);
      const clientSawClose = await withTimeout(clientClosed, 5000, "close").then(
        () => true,
        () => false,
      );
      if (!clientSawClose && verdict.behavior !== "FAILED") {
        return done("FAILED", `the client never emitted close; ${verdict.detail}`);
      }
      return done(verdict.behavior, verdict.detail);
    } catch (error) {
      return done("FAILED", (error as Error).message);
    } finally {
      this.waiting.delete(testCase.id);
      socket?.destroy();
    }
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/**
 * The interop matrix against the `ws` package, written once and run in both directions:
 * - "ws client -> subject server": `ws`'s WebSocket connects to the WebSocketServer under test;
 * - "subject client -> ws server": the WebSocket under test connects to `ws`'s WebSocketServer.
 * Each test asserts what both ends observed: payload bytes, text/binary flag, close code and reason.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, describe, it } from "node:test";
import * as reference from "ws";
import * as subject from "../helpers/subject.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

/** The ws-compatible surface both implementations share, as far as these tests use it. */
export interface Peer extends EventEmitter {
  send(
    data: string | Buffer,
    options?: { binary?: boolean; fin?: boolean; compress?: boolean; mask?: boolean },
    callback?: (error?: Error) => void,
  ): void;
  ping(data?: string | Buffer): void;
  pong(data?: string | Buffer): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  readonly protocol: string;
  readonly extensions: string;
}

/** Server and client options, as the `ws` package spells them (the subject mirrors them). */
type ServerOptions = reference.ServerOptions;
type ClientOptions = reference.ClientOptions;

/** Which implementation plays which role. */
export type Direction = "ws client -> subject server" | "subject client -> ws server";

/** A connected pair: `client` and the server's side of the same connection. */
export interface Pair {
  client: Peer;
  server: Peer;
  /** The client's TCP socket, to count bytes on the wire. */
  clientSocket: Socket;
  /** The Sec-WebSocket-Extensions header of the server's 101 response ("" when absent). */
  negotiated: string;
  stop(): Promise<void>;
}

/** A message event: the payload as a Buffer and the text/binary flag. */
export interface Received {
  data: Buffer;
  isBinary: boolean;
}

function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new Error(`unexpected message data ${typeof data}`);
}

/** The next message `peer` receives. */
export async function nextMessage(peer: Peer, ms = 10000): Promise<Received> {
  const [data, isBinary] = await nextEvent<[unknown, boolean]>(peer, "message", ms);
  return { data: asBuffer(data), isBinary };
}

/** The code and reason of the next `close` event of `peer`. */
export async function nextClose(peer: Peer, ms = 10000): Promise<{ code: number; reason: string }> {
  const [code, reason] = await nextEvent<[number, Buffer]>(peer, "close", ms);
  return { code, reason: asBuffer(reason).toString() };
}

/** Connects a client to a fresh server in the given direction. */
export async function connectPair(
  direction: Direction,
  serverOptions: ServerOptions = {},
  clientOptions: ClientOptions = {},
  protocols?: string[],
): Promise<Pair> {
  const http: HttpServer = createServer();
  // Both implementations take ws's options; the casts give them one constructor shape here.
  const ServerClass = (direction === "ws client -> subject server"
    ? subject.WebSocketServer
    : reference.WebSocketServer) as unknown as new (
    options: ServerOptions,
  ) => EventEmitter & { close(cb?: () => void): void };
  const ClientClass = (direction === "ws client -> subject server"
    ? reference.WebSocket
    : subject.WebSocket) as unknown as new (
    url: string,
    protocols: string[] | undefined,
    options: ClientOptions,
  ) => Peer;
  const wss = new ServerClass({ ...serverOptions, server: http });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const accepted = nextEvent<[Peer]>(wss, "connection", 10000);
  const client = new ClientClass(`ws://127.0.0.1:${port}/interop`, protocols, clientOptions);
  let clientSocket: Socket | undefined;
  let negotiated = "";
  client.once("upgrade", (response: IncomingMessage) => {
    clientSocket = response.socket;
    negotiated = response.headers["sec-websocket-extensions"] ?? "";
  });
  await nextEvent(client, "open", 10000);
  const [server] = await accepted;
  for (const peer of [client, server]) {
    // The ws package throws on unhandled errors; errors are outcomes here, asserted via close.
    peer.on("error", () => {});
  }
  return {
    client,
    server,
    clientSocket: clientSocket as Socket,
    negotiated,
    stop: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          client.terminate();
          server.terminate();
          wss.close(() => http.close(() => resolve()));
          http.closeAllConnections();
        }),
        10000,
        "stopping the pair",
      ),
  };
}

/**
 * The code the failing endpoint reports for itself: the code it sent echoed back when it read
 * the peer's close reply, or 1006 when it closed TCP first (RFC 6455 section 7.1.5; browsers
 * report 1006 when they fail a connection).
 */
function assertFailingSideCode(code: number, sent: number): void {
  assert.ok(
    code === sent || code === 1006,
    `failing side reported ${code}, expected ${sent} or 1006`,
  );
}

/**
 * What the endpoint that started the closing handshake sees: the peer's reply. RFC 6455 section
 * 5.5.1 has the reply echo the code; the reason may be echoed (ws does) or left out.
 */
function assertEchoedClose(
  seen: { code: number; reason: string },
  code: number,
  reason: string,
): void {
  assert.equal(seen.code, code, "echoed close code");
  assert.ok(seen.reason === reason || seen.reason === "", `echoed reason "${seen.reason}"`);
}

/** Sends `data` from `from` and returns what `to` received. */
async function transfer(
  from: Peer,
  to: Peer,
  data: string | Buffer,
  options: { binary?: boolean; compress?: boolean } = {},
) {
  const received = nextMessage(to);
  from.send(data, options);
  return received;
}

/** Compressible text of `size` bytes: words from a small vocabulary, deterministic. */
export function compressibleText(size: number): string {
  const words = ["duplex", "socket", "frame", "deflate", "message", "κόσμε", "echo", "close"];
  let text = "";
  let i = 0;
  while (text.length < size) text += `${words[(i * 7 + (i >> 3)) % words.length]} ${i++ % 97} `;
  return text.slice(0, size);
}

/** Registers the whole matrix for one direction. */
export function defineMatrix(direction: Direction): void {
  const pairs: Pair[] = [];
  const open = async (
    serverOptions?: ServerOptions,
    clientOptions?: ClientOptions,
    protocols?: string[],
  ) => {
    const pair = await connectPair(direction, serverOptions, clientOptions, protocols);
    pairs.push(pair);
    return pair;
  };
  after(async () => {
    for (const pair of pairs) await pair.stop();
  });

  describe(`${direction}: data`, () => {
    it("text both ways, including multi-byte UTF-8", async () => {
      const { client, server } = await open();
      const text = "héllo wörld κόσμε 𝄞 ✓";
      assert.deepEqual(await transfer(client, server, text), {
        data: Buffer.from(text),
        isBinary: false,
      });
      assert.deepEqual(await transfer(server, client, text), {
        data: Buffer.from(text),
        isBinary: false,
      });
    });

    it("binary both ways", async () => {
      const { client, server } = await open();
      const bytes = randomBytes(1000);
      assert.deepEqual(await transfer(client, server, bytes), { data: bytes, isBinary: true });
      assert.deepEqual(await transfer(server, client, bytes), { data: bytes, isBinary: true });
    });

    it("empty text and empty binary both ways", async () => {
      const { client, server } = await open();
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        assert.deepEqual(await transfer(from, to, ""), { data: Buffer.alloc(0), isBinary: false });
        assert.deepEqual(await transfer(from, to, Buffer.alloc(0)), {
          data: Buffer.alloc(0),
          isBinary: true,
        });
      }
    });

    it("16 MiB binary and 16 MiB text both ways", async () => {
      const { client, server } = await open();
      const bytes = randomBytes(16 * 1024 * 1024);
      const text = compressibleText(16 * 1024 * 1024);
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const binary = await transfer(from, to, bytes);
        assert.equal(binary.isBinary, true);
        assert.ok(binary.data.equals(bytes), "16 MiB binary payload differs");
        const received = await transfer(from, to, text);
        assert.equal(received.isBinary, false);
        assert.ok(received.data.equals(Buffer.from(text)), "16 MiB text payload differs");
      }
    });

    it("fragmented messages (fin: false) are delivered whole, with a ping between fragments", async () => {
      const { client, server } = await open();
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const received = nextMessage(to);
        const pinged = nextEvent<[Buffer]>(to, "ping", 10000);
        from.send("frag-1 ", { fin: false });
        from.ping("between");
        from.send("frag-2 κό", { fin: false });
        from.send("σμε end", { fin: true });
        assert.deepEqual(await received, {
          data: Buffer.from("frag-1 frag-2 κόσμε end"),
          isBinary: false,
        });
        assert.equal((await pinged)[0].toString(), "between");
      }
    });

    it("many small messages keep their order", async () => {
      const { client, server } = await open();
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const got: string[] = [];
        const done = new Promise<void>((resolve) => {
          const onMessage = (data: Buffer) => {
            got.push(data.toString());
            if (got.length === 500) {
              to.off("message", onMessage);
              resolve();
            }
          };
          to.on("message", onMessage);
        });
        for (let i = 0; i < 500; i++) from.send(`m${i}`);
        await withTimeout(done, 10000, "500 messages");
        assert.deepEqual(
          got,
          Array.from({ length: 500 }, (_, i) => `m${i}`),
        );
      }
    });
  });

  describe(`${direction}: ping and pong`, () => {
    it("a ping with payload is answered by a pong with the same payload, both ways", async () => {
      const { client, server } = await open();
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const payload = Buffer.from([0, 1, 2, 0xff, 0xfe]);
        const pinged = nextEvent<[Buffer]>(to, "ping", 5000);
        const ponged = nextEvent<[Buffer]>(from, "pong", 5000);
        from.ping(payload);
        assert.deepEqual((await pinged)[0], payload);
        assert.deepEqual((await ponged)[0], payload);
      }
    });

    it("a 125-byte ping and an empty ping are answered", async () => {
      const { client, server } = await open();
      for (const payload of [Buffer.alloc(125, 7), Buffer.alloc(0)]) {
        const ponged = nextEvent<[Buffer]>(client, "pong", 5000);
        client.ping(payload);
        assert.deepEqual((await ponged)[0], payload);
        const serverPonged = nextEvent<[Buffer]>(server, "pong", 5000);
        server.ping(payload);
        assert.deepEqual((await serverPonged)[0], payload);
      }
    });

    it("an unsolicited pong is delivered as a pong event and needs no answer", async () => {
      const { client, server } = await open();
      const ponged = nextEvent<[Buffer]>(server, "pong", 5000);
      client.pong("unsolicited");
      assert.equal((await ponged)[0].toString(), "unsolicited");
      assert.equal((await transfer(client, server, "still fine")).data.toString(), "still fine");
    });
  });

  describe(`${direction}: close`, () => {
    it("the client closes with 4000 and a reason: both ends see them", async () => {
      const { client, server } = await open();
      const atServer = nextClose(server);
      const atClient = nextClose(client);
      client.close(4000, "client says bye");
      assert.deepEqual(await atServer, { code: 4000, reason: "client says bye" });
      assertEchoedClose(await atClient, 4000, "client says bye");
    });

    it("the server closes with 4001 and a reason: both ends see them", async () => {
      const { client, server } = await open();
      const atServer = nextClose(server);
      const atClient = nextClose(client);
      server.close(4001, "server says bye");
      assert.deepEqual(await atClient, { code: 4001, reason: "server says bye" });
      assertEchoedClose(await atServer, 4001, "server says bye");
    });

    it("a close without a code is seen as 1005 at both ends", async () => {
      const { client, server } = await open();
      const atServer = nextClose(server);
      const atClient = nextClose(client);
      client.close();
      assert.deepEqual(await atServer, { code: 1005, reason: "" });
      assert.deepEqual(await atClient, { code: 1005, reason: "" });
    });

    it("both ends close at the same time: both see the code, nothing hangs", async () => {
      const { client, server } = await open();
      const atServer = nextClose(server);
      const atClient = nextClose(client);
      client.close(1000, "c");
      server.close(1000, "s");
      assert.equal((await atServer).code, 1000);
      assert.equal((await atClient).code, 1000);
    });

    it("the peer drops TCP without a close frame: 1006", async () => {
      const { client, server } = await open();
      const [dropper, observer] =
        direction === "ws client -> subject server" ? [client, server] : [server, client];
      const observed = nextClose(observer);
      dropper.terminate();
      assert.deepEqual(await observed, { code: 1006, reason: "" });
    });

    it("the peer sends an unmasked/masked frame against the mask rule: 1002", async () => {
      const { client, server } = await open();
      const [offender, observer] =
        direction === "ws client -> subject server" ? [client, server] : [server, client];
      const observed = nextClose(observer);
      const offenderSaw = nextClose(offender);
      // The ws package lets a sender flip the mask bit; that is the protocol error here.
      offender.send("wrong mask", { mask: direction !== "ws client -> subject server" });
      assertFailingSideCode((await observed).code, 1002);
      assert.equal((await offenderSaw).code, 1002, "code seen by the offending peer");
    });

    it("the peer sends invalid UTF-8 in a text message: 1007", async () => {
      const { client, server } = await open();
      const [offender, observer] =
        direction === "ws client -> subject server" ? [client, server] : [server, client];
      const observed = nextClose(observer);
      const offenderSaw = nextClose(offender);
      // ws sends a Buffer as a text frame without validating it.
      offender.send(Buffer.from([0x61, 0xed, 0xa0, 0x80]), { binary: false });
      assertFailingSideCode((await observed).code, 1007);
      assert.equal((await offenderSaw).code, 1007, "code seen by the offending peer");
    });

    it("a message over maxPayload: 1009", async () => {
      const subjectIsServer = direction === "ws client -> subject server";
      const { client, server } = await open(
        subjectIsServer ? { maxPayload: 1024 } : {},
        subjectIsServer ? {} : { maxPayload: 1024 },
      );
      const [offender, observer] = subjectIsServer ? [client, server] : [server, client];
      const observed = nextClose(observer);
      const offenderSaw = nextClose(offender);
      offender.send(Buffer.alloc(1025));
      assertFailingSideCode((await observed).code, 1009);
      assert.equal((await offenderSaw).code, 1009, "code seen by the offending peer");
    });
  });

  describe(`${direction}: subprotocols`, () => {
    it("the server's handleProtocols choice is what both ends report", async () => {
      const { client, server } = await open(
        { handleProtocols: (offered: Set<string>) => (offered.has("chat.v2") ? "chat.v2" : false) },
        {},
        ["chat.v1", "chat.v2"],
      );
      assert.equal(client.protocol, "chat.v2");
      assert.equal(server.protocol, "chat.v2");
    });
  });

  describe(`${direction}: permessage-deflate`, () => {
    const variants: Array<{
      name: string;
      server: ServerOptions["perMessageDeflate"];
      client: ClientOptions["perMessageDeflate"];
      expect: RegExp[];
    }> = [
      { name: "defaults", server: { threshold: 0 }, client: {}, expect: [/^permessage-deflate/] },
      {
        name: "no context takeover both ways",
        server: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
        client: {},
        expect: [/server_no_context_takeover/, /client_no_context_takeover/],
      },
      {
        name: "server window 9, client window 10",
        server: { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
        client: {},
        expect: [/server_max_window_bits=9/, /client_max_window_bits=10/],
      },
      {
        name: "client asks server_max_window_bits=10 and server_no_context_takeover",
        server: { threshold: 0 },
        client: { serverMaxWindowBits: 10, serverNoContextTakeover: true },
        expect: [/server_max_window_bits=10/, /server_no_context_takeover/],
      },
      {
        name: "client offers client_no_context_takeover and window 8 ",
        server: { threshold: 0, clientMaxWindowBits: 8 },
        client: { clientNoContextTakeover: true, clientMaxWindowBits: 8 },
        expect: [/client_no_context_takeover/, /client_max_window_bits=8/],
      },
    ];
    for (const variant of variants) {
      it(`${variant.name}: negotiated and round trips, compressed on the wire`, async () => {
        const { client, server, clientSocket, negotiated } = await open(
          { perMessageDeflate: variant.server },
          { perMessageDeflate: variant.client },
        );
        assert.match(client.extensions, /permessage-deflate/, "client.extensions");
        assert.match(server.extensions, /permessage-deflate/, "server.extensions");
        for (const re of variant.expect) assert.match(negotiated, re, "negotiated extension");
        const sizes = [0, 1, 100, 5000, 70000, 1024 * 1024];
        for (const [from, to] of [
          [client, server],
          [server, client],
        ] as const) {
          for (const size of sizes) {
            const text = compressibleText(size);
            assert.deepEqual(
              await transfer(from, to, text),
              { data: Buffer.from(text), isBinary: false },
              `${size} bytes`,
            );
          }
          const random = randomBytes(65536);
          assert.deepEqual(await transfer(from, to, random), { data: random, isBinary: true });
        }
        const before = clientSocket.bytesRead;
        const big = compressibleText(2 * 1024 * 1024);
        await transfer(server, client, big);
        const onWire = clientSocket.bytesRead - before;
        assert.ok(onWire < big.length / 3, `2 MiB of text took ${onWire} bytes on the wire`);
      });
    }

    it("a compressed fragmented message (fin: false) round trips", async () => {
      const { client, server } = await open(
        { perMessageDeflate: { threshold: 0 } },
        { perMessageDeflate: {} },
      );
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const received = nextMessage(to);
        const parts = [compressibleText(3000), compressibleText(10), compressibleText(50000)];
        from.send(parts[0], { fin: false, compress: true });
        from.send(parts[1], { fin: false, compress: true });
        from.send(parts[2], { fin: true, compress: true });
        assert.deepEqual(await received, { data: Buffer.from(parts.join("")), isBinary: false });
      }
    });

    it("compressed and uncompressed messages (threshold) keep their order under a busy zlib queue", async () => {
      const deflate = { threshold: 1024, concurrencyLimit: 1 };
      const { client, server } = await open(
        { perMessageDeflate: deflate },
        { perMessageDeflate: deflate },
      );
      const messages = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0 ? `${i}:${compressibleText(20000 + i)}` : `small ${i}`,
      );
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const got: string[] = [];
        const done = new Promise<void>((resolve) => {
          const onMessage = (data: Buffer) => {
            got.push(data.toString());
            if (got.length === messages.length) {
              to.off("message", onMessage);
              resolve();
            }
          };
          to.on("message", onMessage);
        });
        for (const message of messages) from.send(message);
        await withTimeout(done, 20000, "all messages");
        assert.ok(
          got.every((m, i) => m === messages[i]),
          `order broken at ${got.findIndex((m, i) => m !== messages[i])}`,
        );
      }
    });

    it("compress: false per message is sent plain on a deflate connection", async () => {
      const { client, server } = await open(
        { perMessageDeflate: { threshold: 0 } },
        { perMessageDeflate: {} },
      );
      const text = compressibleText(100000);
      assert.deepEqual(await transfer(client, server, text, { compress: false }), {
        data: Buffer.from(text),
        isBinary: false,
      });
      assert.deepEqual(await transfer(server, client, text, { compress: false }), {
        data: Buffer.from(text),
        isBinary: false,
      });
    });

    it("the server declines when it has deflate off: plain messages work", async () => {
      const { client, server } = await open(
        { perMessageDeflate: false },
        { perMessageDeflate: {} },
      );
      assert.equal(client.extensions, "");
      assert.equal(server.extensions, "");
      assert.equal((await transfer(client, server, "plain")).data.toString(), "plain");
    });

    it("an inflated message over maxPayload: 1009", async () => {
      const subjectIsServer = direction === "ws client -> subject server";
      const { client, server } = await open(
        { perMessageDeflate: { threshold: 0 }, ...(subjectIsServer ? { maxPayload: 100000 } : {}) },
        { perMessageDeflate: {}, ...(subjectIsServer ? {} : { maxPayload: 100000 }) },
      );
      const [offender, observer] = subjectIsServer ? [client, server] : [server, client];
      const observed = nextClose(observer);
      offender.send(Buffer.alloc(1024 * 1024), { compress: true });
      assertFailingSideCode((await observed).code, 1009);
    });
  });
}

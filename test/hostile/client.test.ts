/**
 * A hostile server against the WebSocket client under test: invalid handshake responses must
 * end in `error` then `close` 1006 without `open`; invalid frames after the handshake must be
 * answered with a close frame carrying the exact code; nothing may crash the process.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import {
  closePayload,
  encodeFrame,
  FrameReader,
  Op,
  type ParsedFrame,
  parseClose,
} from "../helpers/frames.js";
import { acceptKeyFor } from "../helpers/raw-client.js";
import { WebSocket } from "../helpers/subject.js";
import { withTimeout } from "../helpers/timing.js";

/** What the fake server saw from the client after its response. */
interface ServerView {
  frames: ParsedFrame[];
  ended: Promise<void>;
}

/** A server that answers every upgrade request with `respond(key)` and records the client's frames. */
async function fakeServer(respond: (key: string, socket: Socket) => Buffer | string | null) {
  const views: ServerView[] = [];
  const server: Server = createServer((socket) => {
    let head = "";
    const frames: ParsedFrame[] = [];
    const reader = new FrameReader((frame) => frames.push(frame));
    let ended!: () => void;
    views.push({ frames, ended: new Promise((resolve) => (ended = resolve)) });
    socket.on("close", () => ended());
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      if (head.includes("\r\n\r\n")) return reader.push(chunk);
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
      const response = respond(key, socket);
      if (response !== null) socket.write(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { server, views, url: `ws://127.0.0.1:${port}/` };
}

const switching = (key: string, extra = "") =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKeyFor(key)}\r\n${extra}\r\n`;

/** The client's events in order, until `close` (bounded). */
async function clientEvents(client: InstanceType<typeof WebSocket>, ms = 5000): Promise<string[]> {
  const events: string[] = [];
  client.on("open", () => events.push("open"));
  client.on("error", () => events.push("error"));
  client.on("message", (data, isBinary) =>
    events.push(`${isBinary ? "binary" : "text"}:${String(data)}`),
  );
  await withTimeout(
    new Promise<void>((resolve) =>
      client.on("close", (code: number) => {
        events.push(`close:${code}`);
        resolve();
      }),
    ),
    ms,
    `close (events so far: ${events.join(",")})`,
  );
  return events;
}

describe("hostile server against the subject client", () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });
  const start = async (respond: Parameters<typeof fakeServer>[0]) => {
    const fake = await fakeServer(respond);
    servers.push(fake.server);
    return fake;
  };

  const badResponses: Array<
    [string, (key: string) => string, { protocols?: string[]; perMessageDeflate?: boolean }]
  > = [
    ["a wrong Sec-WebSocket-Accept", (key) => switching(`${key}x`), {}],
    [
      "a missing Sec-WebSocket-Accept",
      () => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      {},
    ],
    [
      "Upgrade: something else",
      (key) => switching(key).replace("Upgrade: websocket", "Upgrade: h2c"),
      {},
    ],
    [
      "a subprotocol that was not offered",
      (key) => switching(key, "Sec-WebSocket-Protocol: other\r\n"),
      { protocols: ["chat"] },
    ],
    [
      "a subprotocol when none was offered",
      (key) => switching(key, "Sec-WebSocket-Protocol: chat\r\n"),
      {},
    ],
    [
      "an extension that was not offered",
      (key) => switching(key, "Sec-WebSocket-Extensions: x-foo\r\n"),
      {},
    ],
    [
      "permessage-deflate when it was not offered",
      (key) => switching(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
      { perMessageDeflate: false },
    ],
    [
      "permessage-deflate with server_max_window_bits=7",
      (key) =>
        switching(
          key,
          "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n",
        ),
      {},
    ],
    [
      "permessage-deflate accepted twice",
      (key) =>
        switching(key, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n"),
      {},
    ],
    [
      "permessage-deflate with an unknown parameter",
      (key) => switching(key, "Sec-WebSocket-Extensions: permessage-deflate; x_foo\r\n"),
      {},
    ],
    ["a response that is not HTTP", () => "garbage garbage\r\n\r\n", {}],
  ];
  for (const [name, respond, options] of badResponses) {
    it(`a 101 with ${name}: error, then close 1006, never open`, async () => {
      const fake = await start((key) => respond(key));
      const client = new WebSocket(fake.url, options.protocols ?? [], {
        perMessageDeflate: options.perMessageDeflate,
      });
      assert.deepEqual(await clientEvents(client), ["error", "close:1006"]);
      await withTimeout(fake.views[0].ended, 5000, "the client to close TCP");
    });
  }

  it("a handshake that never gets an answer ends after handshakeTimeout with error and 1006", async () => {
    const fake = await start(() => null);
    const client = new WebSocket(fake.url, { handshakeTimeout: 300 });
    assert.deepEqual(await clientEvents(client), ["error", "close:1006"]);
  });

  it("frames sent in the same TCP packet as the 101 are delivered", async () => {
    const fake = await start((key) =>
      Buffer.concat([
        Buffer.from(switching(key), "latin1"),
        encodeFrame({ opcode: Op.Text, payload: "early" }),
      ]),
    );
    const client = new WebSocket(fake.url);
    const events = clientEvents(client);
    await withTimeout(
      new Promise((resolve) => client.once("message", resolve)),
      5000,
      "the early message",
    );
    client.close(1000);
    // The fake server never answers the close: the client's close timeout ends it, or terminate.
    client.terminate();
    assert.deepEqual((await events).slice(0, 2), ["open", "text:early"]);
  });

  /** After a good handshake, the server sends `bytes`; the client must send close `code`. */
  const expectClientFails = async (
    bytes: Buffer,
    code: number,
    options: { maxPayload?: number } = {},
  ) => {
    const fake = await start((key, socket) => {
      setImmediate(() => socket.write(bytes));
      return switching(key);
    });
    const client = new WebSocket(fake.url, options);
    const events = await clientEvents(client);
    assert.equal(events[0], "open");
    assert.ok(
      events.at(-1) === `close:${code}` || events.at(-1) === "close:1006",
      `client reported ${events.at(-1)}`,
    );
    await withTimeout(fake.views[0].ended, 5000, "the client to close TCP");
    const closes = fake.views[0].frames.filter((f) => f.opcode === Op.Close);
    assert.equal(closes.length, 1, "exactly one close frame from the client");
    assert.equal(closes[0].masked, true, "client frames are masked");
    assert.equal(parseClose(closes[0].payload).code, code);
  };

  it("a masked frame from the server: close 1002", async () => {
    await expectClientFails(encodeFrame({ opcode: Op.Text, payload: "masked", mask: true }), 1002);
  });

  it("a reserved opcode: close 1002", async () => {
    await expectClientFails(encodeFrame({ opcode: 0xb, payload: "x" }), 1002);
  });

  it("invalid UTF-8 in a text message: close 1007", async () => {
    await expectClientFails(
      encodeFrame({ opcode: Op.Text, payload: Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]) }),
      1007,
    );
  });

  it("a close frame with an invalid code: close 1002", async () => {
    await expectClientFails(encodeFrame({ opcode: Op.Close, payload: closePayload(1005) }), 1002);
  });

  it("a frame over maxPayload: close 1009 from the 64-bit header alone", async () => {
    await expectClientFails(
      encodeFrame({ opcode: Op.Binary, declaredLength: 1025n, lengthForm: "64" }),
      1009,
      {
        maxPayload: 1024,
      },
    );
  });

  it("a 64-bit length with the high bit set: close 1002", async () => {
    await expectClientFails(
      encodeFrame({ opcode: Op.Binary, declaredLength: 1n << 63n, lengthForm: "64" }),
      1002,
    );
  });

  it("the server drops TCP right after the 101: close 1006", async () => {
    const fake = await start((key, socket) => {
      setImmediate(() => socket.destroy());
      return switching(key);
    });
    const client = new WebSocket(fake.url);
    assert.deepEqual(await clientEvents(client), ["open", "close:1006"]);
  });
});

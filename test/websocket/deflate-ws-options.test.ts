/**
 * ws's `perMessageDeflate` options, side by side with ws (issue 12): the same options given to
 * our server and to ws's server (a ws client connecting to each), and to our client and to ws's
 * client (a ws server receiving from each), must negotiate the same parameters and put the same
 * compressed bytes on the wire. The receiving end is always ws, whose socket counts the bytes.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { constants } from "node:zlib";
import {
  WebSocket as WsClient,
  type PerMessageDeflateOptions as WsDeflateOptions,
  WebSocketServer as WsServer,
} from "ws";
import type { PerMessageDeflateOptions } from "../../src/websocket/permessage-deflate.js";
import { WebSocketServer } from "../../src/websocket/server.js";
import { WebSocket } from "../../src/websocket/websocket.js";
import { nextEvent } from "./websocket-test-helpers.js";

/** Compressible JSON-like text, 8 KiB. */
const MESSAGE = Array.from(
  { length: 200 },
  (_, i) => `{"seq":${i},"user":"u${(i * 7919) % 97}","text":"hello world"}`,
)
  .join("\n")
  .slice(0, 8192);

/** The parameters of an extensions header, as a sorted list (order is not significant). */
function params(extensions: string | undefined): string[] {
  return String(extensions)
    .split(";")
    .map((part) => part.trim())
    .sort();
}

/** ws's private socket of a connection: the only place the wire byte count is. */
function rawSocket(ws: WsClient): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/**
 * Option sets tried both ways; each one changes what goes on the wire. Those named "(sent
 * whole)" put at least the message's length on the wire for its first send.
 */
const OPTION_SETS: [string, PerMessageDeflateOptions][] = [
  ["defaults", {}],
  ["level 0 (stored blocks) (sent whole)", { zlibDeflateOptions: { level: 0 } }],
  ["level 9, memLevel 9", { zlibDeflateOptions: { level: 9, memLevel: 9 } }],
  ["Huffman only", { zlibDeflateOptions: { strategy: constants.Z_HUFFMAN_ONLY } }],
  [
    "threshold above the message, no context takeover (sent whole)",
    { threshold: 16 * 1024, serverNoContextTakeover: true, clientNoContextTakeover: true },
  ],
  // The negotiated window replaces zlib's windowBits in ws.
  [
    "zlib windowBits",
    { zlibDeflateOptions: { windowBits: 9 }, zlibInflateOptions: { windowBits: 9 } },
  ],
  [
    "no context takeover, small windows",
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    },
  ],
  [
    "zlib chunkSize",
    { zlibDeflateOptions: { chunkSize: 1024 }, zlibInflateOptions: { chunkSize: 1024 } },
  ],
];

interface Observed {
  /** The server's Sec-WebSocket-Extensions response. */
  extensions: string[];
  /** Wire bytes of each of three sends of MESSAGE (the second and third show context takeover). */
  sizes: number[];
}

describe("server options side by side with ws (a ws client receives)", () => {
  /** Connects a ws client, lets the server send MESSAGE three times, counts the wire bytes. */
  async function observe(url: string): Promise<Observed> {
    const client = new WsClient(url, { perMessageDeflate: true });
    let response: string | undefined;
    client.on("upgrade", (res) => {
      response = res.headers["sec-websocket-extensions"];
    });
    await once(client, "open");
    const socket = rawSocket(client);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = socket.bytesRead;
      client.send("go");
      const [data] = await once(client, "message");
      assert.equal(String(data), MESSAGE);
      sizes.push(socket.bytesRead - before);
    }
    client.close();
    await once(client, "close");
    return { extensions: params(response), sizes };
  }

  for (const [name, options] of OPTION_SETS) {
    test(name, async () => {
      const ours = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: options });
      const theirs = new WsServer({
        port: 0,
        host: "127.0.0.1",
        perMessageDeflate: options as WsDeflateOptions,
      });
      try {
        for (const server of [ours, theirs] as const) {
          (server as WsServer).on("connection", (socket: WsClient) => {
            socket.on("message", () => socket.send(MESSAGE));
          });
        }
        await Promise.all([once(ours, "listening"), once(theirs, "listening")]);
        const url = (server: { address(): AddressInfo | string | null }) =>
          `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const expected = await observe(url(theirs));
        const actual = await observe(url(ours));
        assert.deepEqual(actual, expected);
        // The options did reach zlib: ws's figures are not those of its defaults by chance.
        assert.equal(actual.sizes[0] >= MESSAGE.length, name.endsWith("(sent whole)"));
      } finally {
        await Promise.all([
          new Promise((resolve) => ours.close(resolve)),
          new Promise((resolve) => theirs.close(resolve)),
        ]);
      }
    });
  }
});

describe("client options side by side with ws (a ws server receives)", () => {
  let wss: WsServer;
  let url = "";
  /** Per connection, in order: the offer and the wire bytes of each message received. */
  const connections: { offer: string; response: string; sizes: number[] }[] = [];
  let lastResponse = "";
  before(async () => {
    wss = new WsServer({ port: 0, host: "127.0.0.1", perMessageDeflate: { threshold: 0 } });
    wss.on("headers", (headers) => {
      lastResponse = headers.find((line) => /^sec-websocket-extensions:/i.test(line)) ?? "";
    });
    wss.on("connection", (socket, request) => {
      const entry = {
        response: lastResponse,
        offer: String(request.headers["sec-websocket-extensions"]),
        sizes: [] as number[],
      };
      connections.push(entry);
      const raw = rawSocket(socket);
      let before = raw.bytesRead;
      socket.on("message", (data) => {
        assert.equal(String(data), MESSAGE);
        entry.sizes.push(raw.bytesRead - before);
        before = raw.bytesRead;
        socket.send("ok");
      });
    });
    await once(wss, "listening");
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  /** Sends MESSAGE three times (one at a time) from `client`, then closes it. */
  async function sendThree(client: WsClient | WebSocket): Promise<void> {
    for (let i = 0; i < 3; i++) {
      client.send(MESSAGE);
      await nextEvent(client as WebSocket, "message");
    }
    client.close();
    await nextEvent(client as WebSocket, "close");
  }

  for (const [name, options] of OPTION_SETS) {
    test(name, async () => {
      const theirs = new WsClient(url, { perMessageDeflate: options as WsDeflateOptions });
      await once(theirs, "open");
      await sendThree(theirs);
      const expected = connections.at(-1)!;
      const ours = new WebSocket(url, { perMessageDeflate: options });
      await nextEvent(ours, "open");
      await sendThree(ours);
      const actual = connections.at(-1)!;
      assert.notEqual(actual, expected);
      assert.deepEqual(params(actual.offer), params(expected.offer));
      assert.deepEqual(params(actual.response), params(expected.response));
      // Client frames carry a 4-byte mask either way; the payloads must match byte for byte.
      assert.deepEqual(actual.sizes, expected.sizes);
    });
  }
});

test("the one difference: duplexio applies the threshold with context takeover too", async () => {
  // ws compresses every message when context takeover is on; duplexio (as engine.io and
  // socket.io-client) sends messages below the threshold as they are. threshold: 0 is ws's way.
  const options = { threshold: 16 * 1024 };
  const sizes: number[] = [];
  for (const make of [
    () => new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: options }),
    () => new WsServer({ port: 0, host: "127.0.0.1", perMessageDeflate: options }),
  ]) {
    const server = make();
    (server as WsServer).on("connection", (socket: WsClient) => {
      socket.on("message", () => socket.send(MESSAGE));
    });
    await once(server, "listening");
    const client = new WsClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(client, "open");
    const before = rawSocket(client).bytesRead;
    client.send("go");
    await once(client, "message");
    sizes.push(rawSocket(client).bytesRead - before);
    client.close();
    await once(client, "close");
    await new Promise((resolve) => server.close(resolve));
  }
  assert.ok(sizes[0] > MESSAGE.length, `duplexio sent ${sizes[0]} bytes`);
  assert.ok(sizes[1] < MESSAGE.length / 2, `ws sent ${sizes[1]} bytes`);
});

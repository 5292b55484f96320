import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ClientOptions, WebSocket as WsClient } from "ws";
import {
  type PerMessageDeflateOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from "../../src/websocket/index.js";
import { closed, closeWss, roundTrip, withTimeout, wssPort } from "./server-helpers.js";

/** Opens a ws client and resolves with it and the server's Sec-WebSocket-Extensions answer. */
function connectWithAnswer(
  url: string,
  options: ClientOptions,
): Promise<{ client: WsClient; answer: string | undefined }> {
  const client = new WsClient(url, options);
  let answer: string | undefined;
  client.on("upgrade", (response) => {
    const value = response.headers["sec-websocket-extensions"];
    answer = Array.isArray(value) ? value.join(", ") : value;
  });
  return withTimeout(
    new Promise((resolve, reject) => {
      client.once("open", () => resolve({ client, answer }));
      client.once("error", reject);
    }),
    5000,
    "deflate client open",
  );
}

/** An echo server; resolves with its port and the server-side extensions of each connection. */
async function echoServer(options: Omit<WebSocketServerOptions, "port">) {
  const wss = new WebSocketServer({ ...options, port: 0, host: "127.0.0.1" });
  const serverExtensions: string[] = [];
  wss.on("connection", (socket) => {
    serverExtensions.push(socket.extensions);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return { wss, port: await wssPort(wss), serverExtensions };
}

const LARGE = "duplexio compresses repetitive text well. ".repeat(4000);

describe("permessage-deflate negotiation with ws's client", () => {
  const cases: Array<{
    name: string;
    server: boolean | PerMessageDeflateOptions;
    client: ClientOptions["perMessageDeflate"];
    answer: string | undefined;
  }> = [
    {
      name: "defaults on both sides",
      server: true,
      client: true,
      answer: "permessage-deflate",
    },
    {
      name: "server demands no context takeover both ways and a small server window",
      server: {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
      },
      client: { clientMaxWindowBits: 12 },
      answer:
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    },
    {
      name: "client asks for a small server window and no server context takeover",
      server: true,
      client: { serverMaxWindowBits: 9, serverNoContextTakeover: true },
      answer: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
    },
    {
      name: "server limits the client window the client offered to set",
      server: { clientMaxWindowBits: 11 },
      client: true,
      answer: "permessage-deflate; client_max_window_bits=11",
    },
    {
      name: "server insists on a client window the client cannot set: declined",
      server: { clientMaxWindowBits: 11 },
      client: { clientMaxWindowBits: false as unknown as number },
      answer: undefined,
    },
    {
      name: "server without perMessageDeflate (the default) ignores the offer",
      server: false,
      client: true,
      answer: undefined,
    },
    {
      name: "client without an offer",
      server: true,
      client: false,
      answer: undefined,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const { wss, port, serverExtensions } = await echoServer({
        perMessageDeflate: testCase.server,
      });
      try {
        const { client, answer } = await connectWithAnswer(`ws://127.0.0.1:${port}/`, {
          perMessageDeflate: testCase.client,
        });
        assert.equal(answer, testCase.answer);
        assert.equal(serverExtensions[0], testCase.answer ?? "");
        assert.equal(client.extensions, testCase.answer ? "permessage-deflate" : "");
        // Several messages, so context takeover (or its absence) is exercised both ways.
        for (let i = 0; i < 3; i++) {
          assert.equal(await roundTrip(client, `${i}:${LARGE}`), `${i}:${LARGE}`);
          assert.equal(await roundTrip(client, `short ${i}`), `short ${i}`);
        }
        const done = closed(client);
        client.close(1000);
        assert.equal((await done).code, 1000);
      } finally {
        await closeWss(wss);
      }
    });
  }
});

describe("maxPayload", () => {
  for (const perMessageDeflate of [false, true]) {
    it(`closes with 1009 past maxPayload (perMessageDeflate ${perMessageDeflate})`, async () => {
      const { wss, port } = await echoServer({ maxPayload: 1000, perMessageDeflate });
      try {
        const { client } = await connectWithAnswer(`ws://127.0.0.1:${port}/`, {
          perMessageDeflate,
        });
        assert.equal(await roundTrip(client, "x".repeat(1000)), "x".repeat(1000));
        const done = closed(client);
        // Compressible, so with deflate it is small on the wire and only too big once inflated.
        client.send("x".repeat(1001));
        assert.equal((await done).code, 1009);
      } finally {
        await closeWss(wss);
      }
    });
  }
});

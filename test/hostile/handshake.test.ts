/**
 * Hostile or broken opening handshakes against the server: each must get an HTTP error (or a
 * closed connection where HTTP itself can't be parsed), never a crash, and other clients must
 * still be served.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { type RunningEchoServer, startEchoServer } from "../helpers/echo-server.js";
import { acceptKeyFor, parseResponseHead, RawClient } from "../helpers/raw-client.js";
import { expectStillEchoes } from "./expect.js";

/** Sends `request` on a fresh socket and returns the status line's code (0: no response). */
async function statusFor(port: number, request: string | Buffer): Promise<number> {
  const client = await RawClient.open(port);
  try {
    await client.write(request);
    await client.waitFor(
      () => client.rawBeforeHandshake.includes("\r\n\r\n") || client.ended,
      5000,
      "an HTTP response or the end of the connection",
    );
    if (!client.rawBeforeHandshake.includes("\r\n\r\n")) return 0;
    return parseResponseHead(client.rawBeforeHandshake.split("\r\n\r\n")[0]).status;
  } finally {
    client.destroy();
  }
}

function upgradeRequest(headers: Record<string, string | undefined>, method = "GET"): string {
  const all: Record<string, string | undefined> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  const lines = [`${method} / HTTP/1.1`];
  for (const [name, value] of Object.entries(all))
    if (value !== undefined) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

describe("hostile handshakes against the server", () => {
  let server: RunningEchoServer;
  before(async () => {
    server = await startEchoServer();
  });
  after(() => server.close());
  afterEach(() => expectStillEchoes(server.port));

  it("answers binary garbage before any request with 400 or a closed connection", async () => {
    const status = await statusFor(
      server.port,
      Buffer.concat([randomBytes(512), Buffer.from("\r\n\r\n")]),
    );
    assert.ok(status === 400 || status === 0, `status ${status}`);
  });

  it("answers a malformed header line with 400", async () => {
    const request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade websocket\r\nConnection: Upgrade\r\n\r\n";
    assert.equal(await statusFor(server.port, request), 400);
  });

  it("answers a missing Sec-WebSocket-Key with 400", async () => {
    assert.equal(
      await statusFor(server.port, upgradeRequest({ "Sec-WebSocket-Key": undefined })),
      400,
    );
  });

  for (const key of [
    "",
    "dGhlIHNhbXBsZQ==",
    "not base64 at all!!!!!!!",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  ]) {
    it(`answers the bad key ${JSON.stringify(key)} with 400`, async () => {
      assert.equal(await statusFor(server.port, upgradeRequest({ "Sec-WebSocket-Key": key })), 400);
    });
  }

  it("answers an unsupported version with 426 and Sec-WebSocket-Version: 13", async () => {
    const client = await RawClient.connect(server.port, {
      headers: { "sec-websocket-version": "12" },
    });
    try {
      assert.equal(client.response?.status, 426);
      assert.equal(client.response?.headers["sec-websocket-version"], "13");
    } finally {
      client.destroy();
    }
  });

  it("answers a missing version with 400 or 426", async () => {
    const status = await statusFor(
      server.port,
      upgradeRequest({ "Sec-WebSocket-Version": undefined }),
    );
    assert.ok(status === 400 || status === 426, `status ${status}`);
  });

  it("refuses an upgrade with a method other than GET", async () => {
    const status = await statusFor(server.port, upgradeRequest({}, "POST"));
    assert.ok(status === 400 || status === 405, `status ${status}`);
  });

  it("answers a syntactically broken Sec-WebSocket-Protocol with 400", async () => {
    const status = await statusFor(
      server.port,
      upgradeRequest({ "Sec-WebSocket-Protocol": "a, , b;c" }),
    );
    assert.equal(status, 400);
  });

  it("accepts a valid handshake with a correct Sec-WebSocket-Accept (sanity check)", async () => {
    // The example of RFC 6455 section 1.3.
    assert.equal(acceptKeyFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    const client = await RawClient.connect(server.port, { headers: { "sec-websocket-key": key } });
    try {
      assert.equal(client.response?.status, 101);
      assert.equal(client.response?.headers["sec-websocket-accept"], acceptKeyFor(key));
      assert.equal(client.response?.headers.upgrade?.toLowerCase(), "websocket");
    } finally {
      client.destroy();
    }
  });

  it("answers a request without Host with 400", async () => {
    assert.equal(await statusFor(server.port, upgradeRequest({ Host: undefined })), 400);
  });

  for (const [name, headers] of [
    ["Firefox's Connection: keep-alive, Upgrade", { Connection: "keep-alive, Upgrade" }],
    ["upper-case header values", { Upgrade: "WebSocket", Connection: "UPGRADE" }],
    ["an Upgrade list", { Upgrade: "h2c, websocket" }],
  ] as const) {
    it(`accepts ${name}`, async () => {
      assert.equal(await statusFor(server.port, upgradeRequest(headers)), 101);
    });
  }

  it("reads Sec-WebSocket-Protocol and -Extensions split over several header lines", async () => {
    const protocols = await startEchoServer({
      perMessageDeflate: true,
      handleProtocols: (offered: Set<string>) => [...offered].at(-1) ?? false,
    });
    try {
      const request = upgradeRequest({}).replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n" +
          "Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      );
      const client = await RawClient.open(protocols.port);
      try {
        await client.write(request);
        await client.waitForResponse(5000);
        assert.equal(client.response?.status, 101);
        assert.equal(client.response?.headers["sec-websocket-protocol"], "b");
        assert.match(
          client.response?.headers["sec-websocket-extensions"] ?? "",
          /^permessage-deflate/,
        );
      } finally {
        client.destroy();
      }
    } finally {
      await protocols.close();
    }
  });

  it("serves others while many handshakes trickle in byte by byte or stall", async () => {
    const request = Buffer.from(upgradeRequest({}));
    const stalled: RawClient[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const client = await RawClient.open(server.port);
        // Half stop after the request line, half in the middle of a header.
        await client.write(request.subarray(0, i % 2 === 0 ? 16 : 60));
        stalled.push(client);
      }
      const trickling = stalled.slice(0, 4).map(async (client, i) => {
        // Bounded: 40 more bytes, one every 10 ms, never the end of the head.
        for (let j = 0; j < 40 && !client.ended; j++) {
          await client.write(
            request.subarray((i % 2 === 0 ? 16 : 60) + j, (i % 2 === 0 ? 17 : 61) + j),
          );
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      await expectStillEchoes(server.port);
      await Promise.all(trickling);
      await expectStillEchoes(server.port);
    } finally {
      for (const client of stalled) client.destroy();
    }
  });
});

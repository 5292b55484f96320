import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { describe, it } from "node:test";
import { type VerifyClientInfo, WebSocketServer } from "../../src/websocket/index.js";
import { closeHttp, closeWss, listen, openClient, refusal, roundTrip } from "./server-helpers.js";

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));
const cert = fixture("localhost-cert.pem");
const key = fixture("localhost-key.pem");

describe("WebSocketServer over TLS (wss)", () => {
  it("serves wss through an https server, with verifyClient seeing a secure connection", async () => {
    const https = createServer({ cert, key }, (_request, response) => response.end("https page"));
    const infos: VerifyClientInfo[] = [];
    const wss = new WebSocketServer({
      server: https,
      path: "/secure",
      perMessageDeflate: true,
      verifyClient: (info) => {
        infos.push(info);
        return true;
      },
    });
    wss.on("connection", (socket) => {
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    try {
      const port = await listen(https);
      // Trusting exactly the fixture certificate: hostname and chain are really checked.
      for (const host of ["localhost", "127.0.0.1"]) {
        const client = await openClient(`wss://${host}:${port}/secure`, undefined, { ca: cert });
        const large = "secret ".repeat(10_000);
        assert.equal(await roundTrip(client, large), large);
        assert.equal(client.extensions, "permessage-deflate");
        client.close();
      }
      assert.equal(infos.length, 2);
      assert.equal(infos[0].secure, true);
      assert.equal(
        (await refusal(`wss://localhost:${port}/other`, undefined, { ca: cert })).status,
        400,
      );
    } finally {
      await closeWss(wss);
      await closeHttp(https);
    }
  });

  it("a client that does not trust the certificate never reaches the server", async () => {
    const https = createServer({ cert, key });
    const wss = new WebSocketServer({ server: https });
    let connections = 0;
    wss.on("connection", () => {
      connections++;
    });
    try {
      const port = await listen(https);
      await assert.rejects(openClient(`wss://localhost:${port}/`), /self[- ]signed/i);
      assert.equal(connections, 0);
    } finally {
      await closeWss(wss);
      await closeHttp(https);
    }
  });
});

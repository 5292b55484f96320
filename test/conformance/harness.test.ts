/**
 * Checks of the conformance harness itself: it must FAIL a naive server that echoes frames without
 * validating anything, pass it where it behaves, and reject invalid permessage-deflate answers.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { encodeFrame, FrameReader, Op } from "../helpers/frames.js";
import { acceptKeyFor, parseResponseHead } from "../helpers/raw-client.js";
import { allCases } from "./cases/index.js";
import { answerOffer, checkServerAnswer, parseExtensions } from "./extension-negotiation.js";
import { runAgainstServer } from "./runner.js";

/** Accepts any handshake, then echoes every frame unmasked as it came, validating nothing. */
function naiveEchoServer(): Server {
  return createServer((socket: Socket) => {
    let head = Buffer.alloc(0);
    const reader = new FrameReader((frame) => {
      const opcode = frame.opcode === Op.Ping ? Op.Pong : frame.opcode;
      socket.write(encodeFrame({ opcode, payload: frame.payload, fin: frame.fin, rsv: frame.rsv }));
      if (frame.opcode === Op.Close) socket.end();
    });
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const request = parseResponseHead(
        head
          .subarray(0, end)
          .toString()
          .replace(/^GET [^\r]*/, "HTTP/1.1 000"),
      );
      const accept = acceptKeyFor(request.headers["sec-websocket-key"] ?? "");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.on("data", (more: Buffer) => reader.push(more));
      reader.push(head.subarray(end + 4));
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  });
}

describe("conformance harness", () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = naiveEchoServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const byId = (id: string) => {
    const found = allCases.find((c) => c.id === id);
    assert.ok(found, `case ${id}`);
    return found;
  };

  it("passes a naive echo server on legal traffic", async () => {
    for (const id of ["1.1.1", "1.2.6", "2.2", "5.3"]) {
      const result = await runAgainstServer(byId(id), port);
      assert.equal(result.behavior, "OK", `${id}: ${result.detail}`);
    }
  });

  it("fails a naive echo server that validates nothing", async () => {
    for (const id of ["2.5", "3.1", "4.1.1", "5.1", "6.3.1", "6.4.1", "7.3.2", "7.9.1"]) {
      // The naive server never closes by itself: a short wait for it is enough.
      const result = await runAgainstServer(byId(id), port, 300);
      assert.equal(result.behavior, "FAILED", `${id} should fail: ${result.detail}`);
    }
  });

  it("checks permessage-deflate answers against the offers", () => {
    const offers = parseExtensions(
      "permessage-deflate; server_max_window_bits=10, permessage-deflate",
    );
    assert.deepEqual(checkServerAnswer(offers, "").deflate, null);
    assert.equal(checkServerAnswer(offers, "permessage-deflate").problem, undefined);
    assert.equal(
      checkServerAnswer(offers, "permessage-deflate; server_max_window_bits=9").deflate
        ?.serverMaxWindowBits,
      9,
    );
    assert.match(
      checkServerAnswer(offers, "permessage-deflate; client_max_window_bits=9").problem ?? "",
      /fits no offer/,
    );
    assert.match(
      checkServerAnswer(offers, "permessage-deflate; foo").problem ?? "",
      /unknown parameter/,
    );
    assert.match(checkServerAnswer(offers, "x-webkit-deflate-frame").problem ?? "", /unoffered/);
    const strict = parseExtensions(
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
    );
    assert.match(
      checkServerAnswer(strict, "permessage-deflate; server_max_window_bits=8").problem ?? "",
      /server_no_context_takeover/,
    );
    assert.match(
      checkServerAnswer(strict, "permessage-deflate; server_no_context_takeover").problem ?? "",
      /server_max_window_bits=8/,
    );
  });

  it("answers a client's offer honouring what it requires", () => {
    assert.equal(answerOffer("", "accept"), null);
    assert.equal(
      answerOffer(
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=8; client_max_window_bits",
        "nct+wbits=9",
      )?.header,
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=8; client_no_context_takeover; client_max_window_bits=9",
    );
    assert.equal(answerOffer("permessage-deflate", "wbits=9")?.header, "permessage-deflate");
  });
});

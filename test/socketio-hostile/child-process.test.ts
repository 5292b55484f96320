/**
 * The server in its own process, attacked with everything the other hostile suites send: the
 * process must neither exit nor print anything (an uncaught exception would do both), and a
 * socket.io-client must still connect and get its acks afterwards.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { connectClient, expectEchoes } from "../socketio-interop/client.js";
import { MAX_HTTP_BUFFER_SIZE } from "./hostile-subject.js";
import {
  enginePath,
  pollingHandshake,
  RawWebSocket,
  rawRequest,
  rawSocketIo,
} from "./raw-engine.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";
import { binaryEvent, violations } from "./violations.js";

let server: ServerProcess;
let url: string;

before(async () => {
  server = await startServerProcess();
  url = server.url;
});
after(() => server.stop());

/** Sends `frames` on a connected raw socket and drops it once the server closes (or after 2 s). */
async function violate(frames: Array<string | Buffer>): Promise<void> {
  const { raw } = await rawSocketIo(url);
  for (const frame of frames) raw.send(frame);
  await raw.waitForClose(2000).catch(() => undefined);
  raw.destroy();
}

it("the server process survives every hostile scenario, silent, and still serves clients", async () => {
  const bystander = await connectClient(url, { transports: ["websocket"] });
  try {
    for (const { frames } of violations) await violate(frames);
    const polling = { transport: "polling" };
    const requests = [
      rawRequest(url, enginePath({ ...polling, sid: "bogus" })),
      rawRequest(url, enginePath(polling), { method: "PUT" }),
      rawRequest(url, enginePath({ transport: "carrier-pigeon" })),
      rawRequest(url, enginePath({ ...polling, EIO: "5" })),
      rawRequest(url, enginePath(polling), { headers: { "x-forbidden": "no" } }),
    ];
    for (const res of await Promise.all(requests)) assert.ok(res.status >= 400, res.body);

    const { sid } = await pollingHandshake(url);
    const sessionPath = enginePath({ ...polling, sid });
    const oversized = await rawRequest(url, sessionPath, {
      method: "POST",
      body: `4${"x".repeat(2 * MAX_HTTP_BUFFER_SIZE)}`,
    });
    assert.equal(oversized.status, 413);
    await rawRequest(url, sessionPath, { method: "POST", body: binaryEvent("999999999999", 0) });
    const { sid: other } = await pollingHandshake(url);
    await rawRequest(url, enginePath({ ...polling, sid: other }), {
      method: "POST",
      body: Buffer.from([0x34, 0x32, 0xff, 0xfe, 0x5b]),
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });

    const raw = await RawWebSocket.open(url);
    raw.send(`4${"x".repeat(2 * MAX_HTTP_BUFFER_SIZE)}`);
    assert.equal((await raw.waitForClose()).code, 1009);
    raw.destroy();

    // A bounded burst of handshakes and WebSocket connections dropped mid-way.
    await Promise.all(Array.from({ length: 200 }, () => pollingHandshake(url)));
    const dropped = await Promise.all(Array.from({ length: 50 }, () => RawWebSocket.open(url)));
    for (const socket of dropped) socket.destroy();

    await expectEchoes(bystander, "the bystander, after everything");
    const newcomer = await connectClient(url);
    await expectEchoes(newcomer, "a newcomer, after everything");
    newcomer.disconnect();
  } finally {
    bystander.disconnect();
  }
  await server.expectAliveAndSilent();
});

/**
 * The server in its own process, attacked by a barrage of hostile clients: the process must not
 * exit or print anything (an uncaught exception would do both), and must still echo afterwards.
 */
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { deflateRawSync } from "node:zlib";
import { type ChildServer, startChildServer } from "../helpers/child-server.js";
import { closePayload, encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { delay } from "../helpers/timing.js";
import { expectStillEchoes } from "./expect.js";

const fixture = fileURLToPath(new URL("./fixtures/echo-server-process.ts", import.meta.url));
let server: ChildServer;
let port: number;

before(async () => {
  server = await startChildServer(fixture);
  port = server.port;
});

after(async () => {
  await server?.stop();
});

/** One hostile connection: sends `bytes` after the handshake, then ends it as `ending` says. */
async function attack(bytes: Buffer, ending: "wait" | "end" | "reset", extensions?: string) {
  const client = await RawClient.connect(port, {
    headers: extensions ? { "sec-websocket-extensions": extensions } : {},
  });
  await client.write(bytes);
  if (ending === "reset") client.socket.resetAndDestroy();
  else if (ending === "end") client.socket.end();
  else await client.waitForClose(5000).catch(() => undefined);
  client.destroy();
}

it("the server process survives a barrage of hostile clients without printing or exiting", async () => {
  const masked = (spec: Parameters<typeof encodeFrame>[0]) => encodeFrame({ mask: true, ...spec });
  const attacks: Array<() => Promise<void>> = [
    () => attack(encodeFrame({ opcode: Op.Text, payload: "unmasked" }), "wait"),
    () => attack(masked({ opcode: 5, payload: "x" }), "wait"),
    () => attack(masked({ opcode: Op.Text, payload: "x", rsv: 2 }), "wait"),
    () => attack(masked({ opcode: Op.Text, payload: Buffer.of(0xff) }), "wait"),
    () => attack(masked({ opcode: Op.Close, payload: closePayload(1005) }), "wait"),
    () => attack(masked({ opcode: Op.Close, payload: Buffer.of(1) }), "wait"),
    () => attack(masked({ opcode: Op.Ping, payload: Buffer.alloc(200) }), "wait"),
    () => attack(masked({ opcode: Op.Continuation, payload: "x" }), "wait"),
    () =>
      attack(masked({ opcode: Op.Binary, declaredLength: 1n << 40n, lengthForm: "64" }), "wait"),
    () =>
      attack(masked({ opcode: Op.Binary, declaredLength: 1n << 63n, lengthForm: "64" }), "wait"),
    () =>
      attack(masked({ opcode: Op.Binary, payload: Buffer.alloc(1000) }).subarray(0, 500), "end"),
    () =>
      attack(masked({ opcode: Op.Binary, payload: Buffer.alloc(1000) }).subarray(0, 500), "reset"),
    () =>
      attack(
        masked({ opcode: Op.Binary, payload: deflateRawSync(Buffer.alloc(16 << 20)), rsv: 4 }),
        "wait",
        "permessage-deflate",
      ),
    () =>
      attack(
        masked({ opcode: Op.Text, payload: Buffer.of(1, 2, 3), rsv: 4 }),
        "wait",
        "permessage-deflate",
      ),
    async () => {
      const client = await RawClient.open(port);
      await client.write(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      );
      await client.waitForEnd(5000).catch(() => undefined);
      client.destroy();
    },
    async () => {
      const client = await RawClient.open(port);
      await client.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1]));
      client.socket.resetAndDestroy();
    },
    async () => {
      // The close handshake started by the client, then a reset instead of waiting.
      await attack(masked({ opcode: Op.Close, payload: closePayload(1000) }), "reset");
    },
  ];
  for (const run of attacks) await run();
  await expectStillEchoes(port);
  // Time for a crash in progress to finish exiting.
  await delay(200);
  server.assertAliveAndSilent("after the hostile clients");
});

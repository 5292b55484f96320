/**
 * The server in its own process, attacked with everything the other hostile suites send: the
 * process must neither exit nor print anything (an uncaught exception would do both), and a
 * socket.io-client must still connect and get its acks afterwards.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { delay, withTimeout } from "../helpers/timing.js";
import { connectClient, expectEchoes } from "../socketio-interop/client.js";
import { MAX_HTTP_BUFFER_SIZE } from "./hostile-subject.js";
import {
  enginePath,
  pollingHandshake,
  RawWebSocket,
  rawRequest,
  rawSocketIo,
} from "./raw-engine.js";
import { binaryEvent, violations } from "./violations.js";

const fixture = fileURLToPath(new URL("./fixtures/server-process.ts", import.meta.url));
let child: ChildProcess;
let url: string;
let stderr = "";

before(async () => {
  // Not a test process itself: without the runner's marker it runs as a plain script.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const firstLine = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.once("exit", (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
    }),
    20000,
    "the server process to listen",
  );
  url = `http://127.0.0.1:${(JSON.parse(firstLine) as { port: number }).port}`;
});

after(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await withTimeout(exited, 10000, "the server process to stop").catch(() =>
      child.kill("SIGKILL"),
    );
  }
});

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
  await delay(200);
  assert.equal(child.exitCode, null, `server exited: ${stderr}`);
  assert.equal(child.signalCode, null, `server killed: ${stderr}`);
  assert.equal(stderr, "", "the server printed to stderr");
});

/**
 * Child process of write-queue.test.ts: two server-role sockets send in the same turn; the first
 * socket throws from its write. Prints what reached the healthy socket and what was uncaught.
 */

import { Duplex } from "node:stream";
import { acceptWebSocket } from "../../src/websocket/websocket.js";
import { decodeFrames } from "./websocket-test-helpers.js";

class ThrowingDuplex extends Duplex {
  override _write(): void {
    throw new Error("write exploded");
  }
  override _read(): void {}
}

class RecordingDuplex extends Duplex {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  override _read(): void {}
}

const options = { maxPayload: 1024, protocol: "", extensions: "", deflate: null };
const healthy = new RecordingDuplex();
const throwing = acceptWebSocket(new ThrowingDuplex(), Buffer.alloc(0), options);
const fine = acceptWebSocket(healthy, Buffer.alloc(0), options);
let uncaught = "";
process.on("uncaughtException", (error) => {
  uncaught = error.message;
});
throwing.send("to the throwing socket");
fine.send("to the healthy socket");
setImmediate(() => {
  const frames = decodeFrames(Buffer.concat(healthy.chunks));
  const healthyFrames = frames.map((frame) => frame.payload.toString());
  process.stdout.write(`${JSON.stringify({ uncaught, healthyFrames })}\n`);
  process.exit(0);
});

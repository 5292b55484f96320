// The latency probe: its own connection, exactly one message in flight, each round trip timed.
// Every echo is also checked against the payload sent, byte for byte (compressed echoes are
// inflated first, with a context kept across messages as RFC 7692 context takeover requires),
// which proves the server under test really echoes what it got.
import { performance } from "node:perf_hooks";
import { constants, createInflateRaw } from "node:zlib";
import { FrameCounter } from "./frame-counter.mjs";

const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export class LatencyProbe {
  /**
   * @param {import("node:net").Socket} socket an open WebSocket connection
   * @param {{ frame: Buffer, payload: Buffer, opcode: number, deflate: boolean, maxSamples: number,
   *   onError: (message: string) => void }} options
   */
  constructor(socket, { frame, payload, opcode, deflate, maxSamples, onError }) {
    this.socket = socket;
    this.frame = frame;
    this.payload = payload;
    this.opcode = opcode;
    this.onError = onError;
    this.samples = new Float64Array(maxSamples);
    this.count = 0;
    this.recording = false;
    this.stopped = false;
    this.sentAt = 0;
    this.inflater = deflate ? createInflateRaw({ windowBits: 15 }) : null;
    if (this.inflater !== null)
      this.inflater.on("error", (error) => onError(`probe inflate: ${error.message}`));
    this.parts = [];
    this.counter = new FrameCounter(
      (gotOpcode, rsv1) => this.onEcho(gotOpcode, rsv1),
      () => {},
      (chunk, start, end) => {
        // Only the probe copies payload bytes, and only to check them.
        if (this.counter.opcode < 0x8) this.parts.push(Buffer.from(chunk.subarray(start, end)));
      },
    );
    socket.on("data", (chunk) => this.counter.push(chunk));
  }

  start() {
    this.send();
  }

  send() {
    if (this.stopped) return;
    this.sentAt = performance.now();
    this.socket.write(this.frame);
  }

  onEcho(gotOpcode, rsv1) {
    const rtt = performance.now() - this.sentAt;
    if (this.recording && this.count < this.samples.length) this.samples[this.count++] = rtt;
    const received = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.parts = [];
    if (gotOpcode !== this.opcode) this.onError(`probe: echo has opcode ${gotOpcode}`);
    if (!rsv1) {
      this.check(received);
      this.send();
      return;
    }
    if (this.inflater === null) {
      this.onError("probe: compressed echo without permessage-deflate");
      return;
    }
    const inflated = [];
    const collect = (chunk) => inflated.push(chunk);
    this.inflater.on("data", collect);
    this.inflater.write(Buffer.concat([received, DEFLATE_TAIL]));
    this.inflater.flush(constants.Z_SYNC_FLUSH, () => {
      this.inflater.off("data", collect);
      this.check(Buffer.concat(inflated));
      this.send();
    });
  }

  check(received) {
    if (!received.equals(this.payload)) this.onError("probe: echo differs from the payload sent");
  }

  /** Sorted round-trip times (ms) recorded while `recording` was on. */
  sortedSamples() {
    return this.samples.subarray(0, this.count).sort();
  }

  stop() {
    this.stopped = true;
    this.inflater?.close();
  }
}

// The raw Socket.IO client of the load generator: Engine.IO v4 over WebSocket, spoken by hand
// on a `net` socket (handshake and frames from bench/lib), so neither server's client is used.
//
// Over the WebSocket transport every Engine.IO packet is one text message, so a packet is
// classified by the first two bytes of its message: "2" ping (answered with "3" here), "42"
// event, "43" ack, "40" connect, "44" connect error. Load connections never copy payloads;
// only setup and the latency probe capture whole packets.
import { FrameCounter } from "../lib/frame-counter.mjs";
import { encodeMaskedFrame, OPCODE_CLOSE, OPCODE_TEXT } from "../lib/frames.mjs";
import { openMany, openWebSocket } from "../lib/handshake.mjs";

export const SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket";

/** Character codes of the packet-type digits. */
export const CHAR_0 = 0x30;
export const CHAR_2 = 0x32;
export const CHAR_3 = 0x33;
export const CHAR_4 = 0x34;

const PONG_FRAME = encodeMaskedFrame(OPCODE_TEXT, Buffer.from("3"));
/** The client's CONNECT to the main namespace ("40"), as one masked text frame. */
export const CONNECT_FRAME = encodeMaskedFrame(OPCODE_TEXT, Buffer.from("40"));

/** One masked text frame carrying `text` (an Engine.IO packet). */
export function textFrame(text) {
  return encodeMaskedFrame(OPCODE_TEXT, Buffer.from(text, "latin1"));
}

/** `frames` back to back; `views[k]` is the first k of them (one write, no allocation). */
export function frameBatches(frames) {
  const all = Buffer.concat(frames);
  const views = [all.subarray(0, 0)];
  let end = 0;
  for (const frame of frames) {
    end += frame.length;
    views.push(all.subarray(0, end));
  }
  return views;
}

export class PacketReader {
  /**
   * @param {import("node:net").Socket} socket
   * @param {(message: string) => void} onError protocol errors (never thrown)
   * @param {boolean} engineIO whether messages are Engine.IO packets (pings "2" answered "3")
   */
  constructor(socket, onError, engineIO = true) {
    this.socket = socket;
    this.engineIO = engineIO;
    this.onError = onError;
    /** Called per packet except pings: (byte0, byte1, length, text or null). */
    this.onPacket = null;
    /** Called after each chunk, once its packets were delivered (lets callers batch writes). */
    this.onChunkEnd = null;
    /** Whole packet text is kept only when true (setup, probe). */
    this.capture = true;
    this.parts = [];
    this.seen = 0;
    this.byte0 = 0;
    this.byte1 = 0;
    this.stopping = false;
    this.counter = new FrameCounter(
      (opcode, rsv1, length) => this.messageDone(opcode, rsv1, length),
      (opcode) => {
        if (opcode === OPCODE_CLOSE && !this.stopping) this.onError("server sent a close frame");
      },
      (chunk, start, end) => this.payload(chunk, start, end),
    );
  }

  push(chunk) {
    this.counter.push(chunk);
    if (this.onChunkEnd !== null) this.onChunkEnd();
  }

  payload(chunk, start, end) {
    if (this.counter.opcode >= 0x8) return;
    // The first two bytes may straddle chunks: take each from wherever it arrives.
    if (this.seen === 0) this.byte0 = chunk[start];
    if (this.seen <= 1 && this.seen + (end - start) >= 2) this.byte1 = chunk[start + 1 - this.seen];
    this.seen += end - start;
    if (this.capture) this.parts.push(Buffer.from(chunk.subarray(start, end)));
  }

  messageDone(opcode, rsv1, length) {
    const byte0 = length >= 1 ? this.byte0 : 0;
    const byte1 = length >= 2 ? this.byte1 : 0;
    this.seen = 0;
    let text = null;
    if (this.capture) {
      text = Buffer.concat(this.parts).toString("utf8");
      this.parts = [];
    }
    if (opcode !== OPCODE_TEXT || rsv1) {
      this.onError(`unexpected message: opcode ${opcode}, rsv1 ${rsv1}`);
      return;
    }
    if (this.engineIO && byte0 === CHAR_2 && length === 1) {
      this.socket.write(PONG_FRAME);
      return;
    }
    if (this.onPacket !== null) this.onPacket(byte0, byte1, length, text);
  }
}

/**
 * Opens one Socket.IO connection to the main namespace: WebSocket upgrade on the Engine.IO
 * path, the open packet "0{...}", "40" sent, "40{...}" awaited. Resolves with the socket and
 * its reader (capture off, no packet handler: the caller sets its own).
 */
export async function connectSocketIO({ host, port, timeoutMs = 15_000, onError }) {
  const { socket, leftover } = await openWebSocket({
    host,
    port,
    deflate: false,
    path: SOCKET_IO_PATH,
    timeoutMs,
  });
  const reader = new PacketReader(socket, onError);
  return new Promise((resolve, reject) => {
    let opened = false;
    const fail = (message) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail("Socket.IO connect timed out"), timeoutMs);
    const onClose = () => fail("connection closed during the Socket.IO handshake");
    socket.on("close", onClose);
    reader.onPacket = (byte0, byte1, _length, text) => {
      if (!opened) {
        if (byte0 !== CHAR_0) return fail(`expected the Engine.IO open packet, got ${text}`);
        opened = true;
        socket.write(CONNECT_FRAME);
        return;
      }
      if (byte0 === CHAR_4 && byte1 === CHAR_0) {
        clearTimeout(timer);
        socket.off("close", onClose);
        reader.onPacket = null;
        reader.capture = false;
        resolve({ socket, reader });
        return;
      }
      fail(`expected the Socket.IO connect packet, got ${text}`);
    };
    socket.on("data", (chunk) => reader.push(chunk));
    if (leftover.length > 0) reader.push(leftover);
  });
}

/**
 * Opens one plain WebSocket connection on "/" (the raw broadcast bench) with a reader that
 * classifies its messages the same way; no Engine.IO, so pings are not answered.
 */
export async function connectRaw({ host, port, timeoutMs = 15_000, onError }) {
  const { socket, leftover } = await openWebSocket({ host, port, deflate: false, timeoutMs });
  const reader = new PacketReader(socket, onError, false);
  reader.capture = false;
  socket.on("data", (chunk) => reader.push(chunk));
  if (leftover.length > 0) reader.push(leftover);
  return { socket, reader };
}

/** Opens `count` Socket.IO connections (or others, with `open`), at most `concurrency` at once. */
export function connectMany({
  host,
  port,
  count,
  concurrency = 50,
  onError,
  open = connectSocketIO,
}) {
  return openMany(count, concurrency, () => open({ host, port, onError }));
}

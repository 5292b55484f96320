// The connection-rate loop of the load generator: open a connection, do the opening handshake
// (WebSocket upgrade; with Socket.IO also the open packet, "40" and its "40{...}" answer), send a
// close frame with the end of the stream, wait until the server has closed the TCP connection,
// open the next. Everything the server sends is checked (status, Sec-WebSocket-Accept, no
// extension, the packets' types), as lib/handshake.mjs does for the other rows.
//
// Why not lib/handshake.mjs's promise-per-step code: in this row the generator does as much work
// per connection as the server, and at about 100 us a connection it ran out of CPU before the
// fastest servers did (load at 90-100% of its core), so the row measured the generator. Here a
// loop is one object reused for all its connections (listeners bound once, no promise or timer
// per connection: one watchdog interval for all loops), and the requests and their expected
// Sec-WebSocket-Accept values are made once, from a pool of random keys.
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { CHAR_0, CHAR_4, CONNECT_FRAME, SOCKET_IO_PATH } from "../socketio/packet-reader.mjs";
import { encodeMaskedFrame, OPCODE_CLOSE } from "./frames.mjs";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_RESPONSE_HEAD = 8192;
/** Frames the server may send during the handshake: the open packet and the CONNECT answer. */
const MAX_HANDSHAKE_FRAME = 4096;
const KEY_POOL_SIZE = 256;
const CLOSE_FRAME = encodeMaskedFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));

/** What a loop is waiting for. */
const AWAIT_CONNECT = 0;
const AWAIT_HEAD = 1;
const AWAIT_OPEN_PACKET = 2;
const AWAIT_CONNECT_ANSWER = 3;
const AWAIT_SERVER_CLOSE = 4;
const STOPPED = 5;
const WAITING_FOR = [
  "the TCP connection",
  "the 101 response",
  "the open packet",
  "the CONNECT answer",
];

/**
 * `KEY_POOL_SIZE` upgrade requests for `path`, each with its own random Sec-WebSocket-Key, and
 * the Sec-WebSocket-Accept each must be answered with (RFC 6455 section 4.2.2).
 */
function makeRequests(host, port, path) {
  return Array.from({ length: KEY_POOL_SIZE }, () => {
    const key = randomBytes(16).toString("base64");
    const request = Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      "latin1",
    );
    const accept = createHash("sha1")
      .update(key + GUID)
      .digest("base64");
    return { request, accept };
  });
}

const ACCEPT_FIELD = "\r\nsec-websocket-accept:";

/** Why a 101 response head is not the one expected, or "" when it is. */
function checkHead(text, accept) {
  if (!text.startsWith("HTTP/1.1 101 ")) return `unexpected response: ${text.split("\r\n")[0]}`;
  const lower = text.toLowerCase();
  const at = lower.indexOf(ACCEPT_FIELD);
  if (at === -1) return "no Sec-WebSocket-Accept";
  const from = at + ACCEPT_FIELD.length;
  const to = text.indexOf("\r\n", from);
  if (text.slice(from, to === -1 ? text.length : to).trim() !== accept) {
    return "bad Sec-WebSocket-Accept";
  }
  if (lower.includes("\r\nsec-websocket-extensions:")) return "unexpected extensions";
  return "";
}

/**
 * Runs `concurrency` connection loops against `host:port` until `stop()`; `completed` counts the
 * connections that went through the whole cycle. A failure (bad answer, early close, a cycle
 * longer than `cycleTimeoutMs`) stops that loop and is reported to `onError`.
 */
export class ConnectionCycles {
  completed = 0;
  #loops;
  #watchdog;

  /**
   * @param {{ host: string, port: number, protocol: "websocket" | "socketio",
   *   concurrency: number, cycleTimeoutMs: number, onError: (message: string) => void }} options
   */
  constructor({ host, port, protocol, concurrency, cycleTimeoutMs, onError }) {
    const path = protocol === "socketio" ? SOCKET_IO_PATH : "/";
    const shared = {
      host,
      port,
      socketio: protocol === "socketio",
      requests: makeRequests(host, port, path),
      next: 0,
      onCompleted: () => this.completed++,
      onError,
    };
    this.#loops = Array.from({ length: concurrency }, () => new Loop(shared));
    for (const loop of this.#loops) loop.open();
    this.#watchdog = setInterval(() => {
      const now = performance.now();
      for (const loop of this.#loops) loop.checkTimeout(now, cycleTimeoutMs);
    }, 500);
  }

  /**
   * Stops opening connections; resolves once every loop's current connection is closed. The
   * watchdog runs until then, so a connection the server never closes still ends (failed) within
   * `cycleTimeoutMs`.
   */
  async stop() {
    await Promise.all(this.#loops.map((loop) => loop.stop()));
    clearInterval(this.#watchdog);
  }
}

class Loop {
  #shared;
  #socket = null;
  #state = STOPPED;
  #stopping = false;
  #onStopped = null;
  #startedAt = 0;
  #accept = "";
  /** Bytes received and not yet used (a head or frame split across reads). */
  #pending = null;
  #onConnect = () => this.#connected();
  #onData = (chunk) => this.#received(chunk);
  #onClose = () => this.#closed();
  #onError = () => {};
  #request = null;
  #failed = false;

  constructor(shared) {
    this.#shared = shared;
  }

  open() {
    const shared = this.#shared;
    const { request, accept } = shared.requests[shared.next];
    shared.next = (shared.next + 1) % KEY_POOL_SIZE;
    this.#accept = accept;
    this.#pending = null;
    this.#state = AWAIT_CONNECT;
    this.#startedAt = performance.now();
    const socket = connect(shared.port, shared.host);
    this.#socket = socket;
    socket.on("connect", this.#onConnect);
    socket.on("data", this.#onData);
    socket.on("close", this.#onClose);
    socket.on("error", this.#onError);
    this.#request = request;
  }

  stop() {
    this.#stopping = true;
    if (this.#state === STOPPED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onStopped = resolve;
    });
  }

  checkTimeout(now, timeoutMs) {
    if (this.#state !== STOPPED && now - this.#startedAt > timeoutMs) {
      this.#fail(`connection cycle took over ${timeoutMs} ms`);
    }
  }

  #connected() {
    this.#state = AWAIT_HEAD;
    this.#socket.write(this.#request);
  }

  #received(chunk) {
    let bytes = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    if (this.#state === AWAIT_HEAD) {
      const end = bytes.indexOf("\r\n\r\n");
      if (end === -1) {
        if (bytes.length > MAX_RESPONSE_HEAD) return this.#fail("response head too large");
        this.#pending = bytes;
        return;
      }
      const problem = checkHead(bytes.latin1Slice(0, end), this.#accept);
      if (problem !== "") return this.#fail(problem);
      bytes = bytes.subarray(end + 4);
      if (!this.#shared.socketio) return this.#close(bytes);
      this.#state = AWAIT_OPEN_PACKET;
    }
    while (this.#state === AWAIT_OPEN_PACKET || this.#state === AWAIT_CONNECT_ANSWER) {
      const frame = readFrame(bytes);
      if (typeof frame === "string") return this.#fail(frame);
      if (frame === null) {
        if (bytes.length > 0) this.#pending = bytes;
        return;
      }
      bytes = bytes.subarray(frame.end);
      if (this.#state === AWAIT_OPEN_PACKET) {
        if (frame.first !== CHAR_0) return this.#fail("expected the Engine.IO open packet");
        this.#state = AWAIT_CONNECT_ANSWER;
        this.#socket.write(CONNECT_FRAME);
      } else {
        if (frame.first !== CHAR_4 || frame.second !== CHAR_0) {
          return this.#fail("expected the Socket.IO CONNECT answer");
        }
        return this.#close(bytes);
      }
    }
    // AWAIT_SERVER_CLOSE: the server's close frame (and anything before it) is not checked.
  }

  /** The handshake is done: the close frame, with the end of the stream. */
  #close(rest) {
    if (rest.length > 0) return this.#fail("unexpected data after the handshake");
    this.#state = AWAIT_SERVER_CLOSE;
    this.#socket.end(CLOSE_FRAME);
  }

  #closed() {
    const state = this.#state;
    this.#state = STOPPED;
    this.#socket = null;
    // A failed cycle (bad answer, watchdog) ends here too, its socket destroyed: already
    // reported, and not a completed one.
    if (!this.#failed) {
      if (state === AWAIT_SERVER_CLOSE) {
        this.#shared.onCompleted();
      } else {
        this.#failed = true;
        this.#shared.onError(`connection closed while waiting for ${WAITING_FOR[state]}`);
      }
    }
    if (this.#stopping || this.#failed) {
      this.#onStopped?.();
      return;
    }
    this.open();
  }

  #fail(message) {
    if (this.#failed) return;
    this.#failed = true;
    this.#shared.onError(message);
    this.#socket?.destroy();
  }
}

/**
 * The first server frame in `bytes`: its first two payload bytes and where it ends; null when it
 * is not all there yet; a string when it is not an unmasked, unfragmented text frame of at most
 * `MAX_HANDSHAKE_FRAME` bytes.
 */
function readFrame(bytes) {
  if (bytes.length < 2) return null;
  if (bytes[0] !== 0x81) return `expected a text frame, got first byte ${bytes[0]}`;
  let length = bytes[1];
  let start = 2;
  if (length & 0x80) return "masked server frame";
  if (length === 126) {
    if (bytes.length < 4) return null;
    length = bytes.readUInt16BE(2);
    start = 4;
  } else if (length === 127) {
    return "handshake frame too large";
  }
  if (length > MAX_HANDSHAKE_FRAME) return "handshake frame too large";
  if (length < 2) return "handshake frame too short";
  if (bytes.length < start + length) return null;
  return { first: bytes[start], second: bytes[start + 1], end: start + length };
}

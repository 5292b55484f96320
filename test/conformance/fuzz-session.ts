/**
 * One fuzzing connection, in either role: as a client it tests a server (frames masked), as a
 * server it tests a client (frames unmasked). Cases drive it with raw frames; it records what the
 * peer does (messages, pings, pongs, the close handshake) the way Autobahn's fuzzer does, and
 * checks every frame the peer sends against RFC 6455 / 7692 ("violations").
 */
import { isUtf8 } from "node:buffer";
import type { Socket } from "node:net";
import {
  closePayload,
  encodeFrame,
  FrameReader,
  type FrameSpec,
  Op,
  type ParsedFrame,
} from "../helpers/frames.js";
import { delay } from "../helpers/timing.js";
import { MessageCompressor, MessageDecompressor } from "./deflate-codec.js";

/** Something the peer did, in the order it happened (Autobahn's "received" list). */
export type FuzzEvent =
  | { kind: "message"; data: Buffer; isBinary: boolean }
  | { kind: "ping"; data: Buffer }
  | { kind: "pong"; data: Buffer }
  | { kind: "timeout"; label: string };

/** Negotiated permessage-deflate, resolved for both directions. */
export interface NegotiatedDeflate {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** How a frame is written: whole, or in chops of `chop` bytes, each its own write. */
export interface SendOptions {
  chop?: number;
}

const VALID_OPCODES = new Set<number>([
  Op.Continuation,
  Op.Text,
  Op.Binary,
  Op.Close,
  Op.Ping,
  Op.Pong,
]);

function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/** A fuzzing connection after a successful opening handshake. */
export class FuzzSession {
  readonly events: FuzzEvent[] = [];
  /** Frames of the peer that broke the protocol; any makes the case FAILED. */
  readonly violations: string[] = [];
  closeSent = false;
  closeReceived = false;
  /** The fuzzer started the closing handshake (sent the first close frame). */
  closedByMe = false;
  /** The fuzzer had to drop TCP because the peer did not. */
  droppedByMe = false;
  ended = false;
  remoteCloseCode: number | undefined;
  remoteCloseReason: Buffer = Buffer.alloc(0);
  /** Called after each recorded event (Autobahn's finishWhenDone). */
  onEvent: (() => void) | undefined;
  /** Frames from the peer that were on the wire, counted by opcode (for auto-fragmentation). */
  readonly receivedFrames: ParsedFrame[] = [];

  private readonly reader: FrameReader;
  private readonly queue: ParsedFrame[] = [];
  private processing = false;
  private message: { opcode: number; compressed: boolean; parts: Buffer[] } | undefined;
  private readonly compressor: MessageCompressor | undefined;
  private readonly decompressor: MessageDecompressor | undefined;
  private endWaiters: Array<() => void> = [];
  private eventWaiters: Array<() => void> = [];

  constructor(
    readonly socket: Socket,
    /** The fuzzer's role. */
    readonly role: "client" | "server",
    readonly deflate: NegotiatedDeflate | null,
    initialBytes: Buffer,
  ) {
    if (deflate) {
      const ours = role === "client" ? "client" : "server";
      const theirs = role === "client" ? "server" : "client";
      this.compressor = new MessageCompressor({
        windowBits: deflate[`${ours}MaxWindowBits`],
        noContextTakeover: deflate[`${ours}NoContextTakeover`],
      });
      this.decompressor = new MessageDecompressor({
        windowBits: deflate[`${theirs}MaxWindowBits`],
        noContextTakeover: deflate[`${theirs}NoContextTakeover`],
      });
    }
    this.reader = new FrameReader(
      (frame) => {
        this.receivedFrames.push(frame);
        this.queue.push(frame);
        void this.drain();
      },
      128 * 1024 * 1024,
    );
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.reader.push(chunk));
    const finish = () => {
      if (this.ended) return;
      this.ended = true;
      this.compressor?.reset();
      this.decompressor?.reset();
      for (const wake of this.endWaiters.splice(0)) wake();
      for (const wake of this.eventWaiters.splice(0)) wake();
    };
    socket.on("close", finish);
    socket.on("error", () => socket.destroy());
    if (initialBytes.length > 0) this.reader.push(initialBytes);
  }

  /** True while neither side started closing and TCP is up. */
  get isOpen(): boolean {
    return !this.ended && !this.closeReceived && !this.closeSent;
  }

  /** Both close frames were exchanged (Autobahn's wasClean). */
  get wasClean(): boolean {
    return this.closeSent && this.closeReceived;
  }

  private violation(what: string): void {
    this.violations.push(what);
  }

  private record(event: FuzzEvent): void {
    this.events.push(event);
    this.onEvent?.();
    for (const wake of this.eventWaiters.splice(0)) wake();
  }

  /** Frames are handled one at a time, in order, even when inflating is asynchronous. */
  private async drain(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) await this.handle(this.queue.shift() as ParsedFrame);
    } finally {
      this.processing = false;
    }
  }

  private async handle(frame: ParsedFrame): Promise<void> {
    if (this.closeReceived) {
      this.violation(`frame with opcode ${frame.opcode} after the peer's close frame`);
      return;
    }
    const mustBeMasked = this.role === "server";
    if (frame.masked !== mustBeMasked) {
      this.violation(
        `${frame.masked ? "masked" : "unmasked"} frame from the ${mustBeMasked ? "client" : "server"}`,
      );
    }
    if (!VALID_OPCODES.has(frame.opcode)) return this.violation(`reserved opcode ${frame.opcode}`);
    if ((frame.rsv & 3) !== 0) return this.violation(`RSV2/RSV3 set (rsv=${frame.rsv})`);
    const isControl = frame.opcode >= 8;
    if (isControl) {
      if (!frame.fin) return this.violation("fragmented control frame");
      if (frame.payload.length > 125) return this.violation("control frame over 125 bytes");
      if (frame.rsv !== 0) return this.violation("RSV1 on a control frame");
      return this.handleControl(frame);
    }
    if (frame.opcode === Op.Continuation) {
      if (!this.message) return this.violation("continuation frame with no message started");
      if (frame.rsv !== 0) return this.violation("RSV1 on a continuation frame");
    } else {
      if (this.message) return this.violation("new data frame inside a fragmented message");
      if (frame.rsv !== 0 && !this.deflate)
        return this.violation("RSV1 without permessage-deflate");
      this.message = { opcode: frame.opcode, compressed: frame.rsv !== 0, parts: [] };
    }
    const message = this.message as { opcode: number; compressed: boolean; parts: Buffer[] };
    message.parts.push(frame.payload);
    if (!frame.fin) return;
    this.message = undefined;
    let data: Buffer = Buffer.concat(message.parts);
    if (message.compressed) {
      try {
        data = await (this.decompressor as MessageDecompressor).decompress(data);
      } catch (error) {
        return this.violation(`compressed message does not inflate: ${(error as Error).message}`);
      }
    }
    const isBinary = message.opcode === Op.Binary;
    if (!isBinary && !isUtf8(data)) return this.violation("text message that is not UTF-8");
    this.record({ kind: "message", data, isBinary });
  }

  private async handleControl(frame: ParsedFrame): Promise<void> {
    if (frame.opcode === Op.Ping) {
      this.record({ kind: "ping", data: frame.payload });
      if (!this.closeSent)
        await this.write(
          encodeFrame({ opcode: Op.Pong, payload: frame.payload, mask: this.masking }),
        );
      return;
    }
    if (frame.opcode === Op.Pong) {
      this.record({ kind: "pong", data: frame.payload });
      return;
    }
    // Close.
    this.closeReceived = true;
    const payload = frame.payload;
    if (payload.length === 1) this.violation("close frame with a 1-byte payload");
    if (payload.length >= 2) {
      this.remoteCloseCode = payload.readUInt16BE(0);
      this.remoteCloseReason = payload.subarray(2);
      if (!isValidCloseCode(this.remoteCloseCode))
        this.violation(`invalid close code ${this.remoteCloseCode} sent`);
      if (!isUtf8(this.remoteCloseReason)) this.violation("close reason that is not UTF-8");
    }
    if (!this.closeSent) {
      this.closeSent = true;
      await this.write(
        encodeFrame({ opcode: Op.Close, payload: payload.subarray(0, 2), mask: this.masking }),
      );
    }
    // The server closes TCP once the handshake is complete (RFC 6455 section 7.1.1).
    if (this.role === "server") this.socket.end();
    for (const wake of this.eventWaiters.splice(0)) wake();
  }

  private get masking(): boolean {
    return this.role === "client";
  }

  /** Writes bytes, whole or in chops; each chop is its own write, awaited. */
  async write(bytes: Buffer, options: SendOptions = {}): Promise<void> {
    const chop = options.chop ?? bytes.length;
    if (bytes.length === 0) return;
    for (let offset = 0; offset < bytes.length; offset += chop) {
      if (this.ended || this.socket.destroyed) return;
      const piece = bytes.subarray(offset, offset + chop);
      await new Promise<void>((resolve) => this.socket.write(piece, () => resolve()));
    }
  }

  /** Sends one raw frame, masked as the fuzzer's role requires unless the spec says otherwise. */
  sendFrame(spec: FrameSpec, options: SendOptions = {}): Promise<void> {
    return this.write(encodeFrame({ mask: this.masking, ...spec }), options);
  }

  /** Sends one frame whose header announces `total` bytes, with only `part` of the payload. */
  async beginFrame(opcode: number, total: number, part: Buffer): Promise<Buffer> {
    const key = this.masking ? Buffer.from([0x37, 0xfa, 0x21, 0x3d]) : null;
    const whole = encodeFrame({ opcode, payload: Buffer.alloc(total), mask: key ?? false });
    const header = whole.subarray(0, whole.length - total);
    await this.write(header);
    await this.continueFrame(part, 0, key);
    return key ?? Buffer.alloc(0);
  }

  /** More payload of a frame started with {@link beginFrame}; `offset` is its position. */
  async continueFrame(part: Buffer, offset: number, key: Buffer | null): Promise<void> {
    const out = Buffer.from(part);
    if (key && key.length === 4)
      for (let i = 0; i < out.length; i++) out[i] ^= key[(offset + i) & 3];
    await this.write(out);
  }

  /**
   * Sends a whole message the way an endpoint would: compressed when deflate was negotiated,
   * split into frames of at most `fragmentSize` payload bytes when given.
   */
  async sendMessage(data: Buffer | string, isBinary: boolean, fragmentSize = 0): Promise<void> {
    let payload = typeof data === "string" ? Buffer.from(data) : data;
    const compressed = this.compressor !== undefined;
    if (this.compressor) payload = await this.compressor.compress(payload);
    const opcode = isBinary ? Op.Binary : Op.Text;
    if (fragmentSize <= 0 || payload.length <= fragmentSize) {
      await this.sendFrame({ opcode, payload, rsv: compressed ? 4 : 0 });
      return;
    }
    const frames: Buffer[] = [];
    for (let offset = 0; offset < payload.length; offset += fragmentSize) {
      const first = offset === 0;
      frames.push(
        encodeFrame({
          opcode: first ? opcode : Op.Continuation,
          payload: payload.subarray(offset, offset + fragmentSize),
          fin: offset + fragmentSize >= payload.length,
          rsv: first && compressed ? 4 : 0,
          mask: this.masking,
        }),
      );
    }
    await this.write(Buffer.concat(frames));
  }

  /** Starts (or answers) the closing handshake with a well-formed close frame. */
  async sendClose(code?: number, reason?: string | Buffer): Promise<void> {
    if (this.closeSent || this.ended) return;
    this.closeSent = true;
    if (!this.closeReceived) this.closedByMe = true;
    await this.sendFrame({ opcode: Op.Close, payload: closePayload(code, reason) });
    if (this.closeReceived && this.role === "server") this.socket.end();
  }

  /** Sends a close frame with any payload, and counts it as the fuzzer starting the close. */
  async sendCloseFrame(payload: Buffer): Promise<void> {
    if (this.closeSent || this.ended) return;
    this.closeSent = true;
    if (!this.closeReceived) this.closedByMe = true;
    await this.sendFrame({ opcode: Op.Close, payload });
  }

  /** Waits until `condition` holds or the connection ends, at most `ms`. True if it holds. */
  async waitFor(condition: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!condition() && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.eventWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return condition();
  }

  /** Autobahn's continueLater: waits `ms`; if nothing closed meanwhile, records a timeout. */
  async wait(ms: number, label: string): Promise<boolean> {
    await this.waitFor(() => !this.isOpen, ms);
    if (!this.isOpen) return false;
    this.record({ kind: "timeout", label });
    return true;
  }

  /** The next message event from index `from` on, waiting up to `ms`. */
  async nextMessage(from: number, ms: number): Promise<FuzzEvent | undefined> {
    const find = () => this.events.slice(from).find((e) => e.kind === "message");
    await this.waitFor(() => find() !== undefined, ms);
    return find();
  }

  /** Autobahn's closeAfter: after `ms`, starts the closing handshake with 1000 if still open. */
  async closeAfter(ms: number): Promise<void> {
    await this.waitFor(() => !this.isOpen, ms);
    if (this.isOpen) await this.sendClose(1000);
  }

  /** Autobahn's killAfter: waits up to `ms` for the connection to end, then drops it. */
  async killAfter(ms: number): Promise<void> {
    if (!this.ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.endWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (!this.ended) {
      this.droppedByMe = true;
      this.socket.destroy();
      await delay(0);
    }
    // Frames still queued for inflating are part of the outcome.
    while (this.processing) await delay(1);
  }
}

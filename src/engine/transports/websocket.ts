/**
 * The WebSocket transport: one Engine.IO packet per WebSocket message. Text packets are text
 * frames; binary messages are binary frames (revision 3: with the packet type as first byte), or
 * base64 text for clients that asked for it. Broadcast messages are written as frames prepared
 * once for every recipient.
 * @module
 */

import type { IncomingMessage } from "node:http";
import {
  decodeTextPacket,
  encodeFrame,
  MESSAGE_PREFIX_BYTE,
  writeMessagePrefix,
} from "../../protocol/engine/packet.js";
import { type EnginePacketResult, EnginePacketType } from "../../protocol/engine/packet-types.js";
import { decodePacketV3, encodeFrameV3 } from "../../protocol/engine/v3-packet.js";
import type { RawData, SendOptions, WebSocket } from "../../websocket/websocket.js";
import type { NodeEmitterInternals } from "../engine-socket.js";
import type { PreparedEngineMessage } from "../prepared-message.js";
import type { OutgoingPacket, SendCallback } from "./transport.js";
import { Transport } from "./transport.js";

/**
 * Unsent bytes above which the transport reports itself not writable: packets then wait in the
 * session's write buffer (counted against its limit) and volatile messages can be dropped.
 */
const HIGH_WATER_MARK = 1024 * 1024;

// Shared option objects: no allocation per message.
const TEXT: SendOptions = { binary: false, compress: true };
const TEXT_RAW: SendOptions = { binary: false, compress: false };
const BINARY: SendOptions = { binary: true, compress: true };
const BINARY_RAW: SendOptions = { binary: true, compress: false };

/** The property of a WebSocket that leads its listeners to its transport. */
const TRANSPORT: unique symbol = Symbol("engine transport");

/** A WebSocket carrying its transport. */
interface TransportCarrier extends WebSocket {
  [TRANSPORT]: WebSocketTransport;
}

/** WebSocket transport over a connection accepted by the WebSocket layer. */
export class WebSocketTransport extends Transport {
  readonly name = "websocket";
  readonly #socket: WebSocket;
  /** Compression threshold when permessage-deflate was negotiated; -1 otherwise. */
  readonly #deflateThreshold: number;

  constructor(
    request: IncomingMessage,
    socket: WebSocket,
    protocol: 3 | 4,
    supportsBinary: boolean,
    deflateThreshold: number,
  ) {
    super(request, protocol, supportsBinary);
    this.#socket = socket;
    this.#deflateThreshold = socket.extensions === "" ? -1 : deflateThreshold;
    // Listeners shared by every transport, finding theirs on the socket: no closure per
    // connection (four of them and their context cost 260 B of heap).
    (socket as TransportCarrier)[TRANSPORT] = this;
    socket.on("message", WebSocketTransport.#onMessage);
    // A WebSocket emits `close` once: `on` spares the once-wrapper and its removal.
    socket.on("close", WebSocketTransport.#onSocketClose);
    socket.on("error", WebSocketTransport.#onSocketError);
  }

  get writable(): boolean {
    return (
      this.readyState === "open" &&
      this.#socket.readyState === 1 &&
      this.#socket.bufferedAmount < HIGH_WATER_MARK
    );
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  static readonly #onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
    (this as TransportCarrier)[TRANSPORT].#receive(data, isBinary);
  };

  static readonly #onSocketClose = function (this: WebSocket) {
    (this as TransportCarrier)[TRANSPORT].onClose();
  };

  static readonly #onSocketError = function (this: WebSocket, error: Error) {
    (this as TransportCarrier)[TRANSPORT].onError("websocket error", error);
  };

  /**
   * Listened to only while the transport is over its high-water mark (see {@link write}): the
   * session waits for "drain" only then, and a listener there would cost every write a call.
   */
  static readonly #onDrain = function (this: WebSocket) {
    const transport = (this as TransportCarrier)[TRANSPORT];
    transport.#awaitingDrain = false;
    if (transport.readyState === "open") transport.onDrain();
  };

  #receive(data: RawData, isBinary: boolean): void {
    // binaryType is the default "nodebuffer": every message arrives as one Buffer.
    const bytes = data as Buffer;
    let result: EnginePacketResult;
    if (this.protocol === 4) {
      if (isBinary) {
        this.onPacket({ type: EnginePacketType.Message, data: bytes });
        return;
      }
      // A text message, the bulk of the traffic: the session gets its bytes (checked UTF-8 by
      // the WebSocket layer), so that Socket.IO can parse them without a decoded copy.
      const owner = this.owner;
      if (bytes.length > 1 && bytes[0] === MESSAGE_PREFIX_BYTE && owner !== null) {
        // No listener at all (a session's transport has none but while it probes an upgrade):
        // no listenerCount, whose lookup by name is slow (see EngineSocket's #unheard).
        const unheard = (this as unknown as NodeEmitterInternals)._eventsCount === 0;
        if (unheard || this.listenerCount("packet") === 0) {
          owner._onTransportText(bytes);
          return;
        }
      }
      result = decodeTextPacket(bytes.toString());
    } else {
      result = decodePacketV3(isBinary ? bytes : bytes.toString());
    }
    if (!result.ok) {
      this.onMalformed(result.reason);
      return;
    }
    if (result.packet.type === EnginePacketType.Close) {
      // A client asking to close: end the connection as engine.io does for polling.
      this.close();
      return;
    }
    this.onPacket(result.packet);
  }

  #awaitingDrain = false;

  send(packets: OutgoingPacket[]): void {
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i];
      this.write(p.type, p.data, p.prepared, p.compress, p.callback);
    }
  }

  /** Writes one packet as one WebSocket message (see {@link Transport.write}). */
  write(
    type: EnginePacketType,
    data: string | Uint8Array | undefined,
    prepared: PreparedEngineMessage | null,
    compress: boolean,
    sendCallback: SendCallback | undefined,
  ): number {
    const socket = this.#socket;
    this.#writeFrame(socket, type, data, prepared, compress, sendCallback);
    return this.#checkHighWaterMark(socket);
  }

  /** Writes the packet type into `bytes` and sends them as one text frame (see {@link Transport.writeUtf8}). */
  writeUtf8(bytes: Buffer, compress: boolean): number {
    const socket = this.#socket;
    writeMessagePrefix(bytes);
    socket.send(bytes, compress && this.#deflateThreshold >= 0 ? TEXT : TEXT_RAW);
    return this.#checkHighWaterMark(socket);
  }

  #checkHighWaterMark(socket: WebSocket): number {
    const buffered = socket.bufferedAmount;
    // Over the mark the session stops writing (not writable) until the socket drains.
    if (buffered >= HIGH_WATER_MARK && !this.#awaitingDrain) {
      this.#awaitingDrain = true;
      socket.once("drain", WebSocketTransport.#onDrain);
    }
    return buffered;
  }

  #writeFrame(
    socket: WebSocket,
    type: EnginePacketType,
    data: string | Uint8Array | undefined,
    prepared: PreparedEngineMessage | null,
    compress: boolean,
    sendCallback: SendCallback | undefined,
  ): void {
    const callback = sendCallback === undefined ? undefined : adaptCallback(sendCallback);
    compress = compress && this.#deflateThreshold >= 0;
    // A prepared frame is uncompressed: use it unless this connection would compress the message.
    if (prepared !== null && !(compress && prepared.size >= this.#deflateThreshold)) {
      socket.sendPrepared(prepared.websocketFrame(this.protocol, this.supportsBinary), callback);
      return;
    }
    const frame =
      this.protocol === 4
        ? encodeFrame(type, data, this.supportsBinary)
        : encodeFrameV3(type, data, this.supportsBinary);
    const options =
      typeof frame === "string" ? (compress ? TEXT : TEXT_RAW) : compress ? BINARY : BINARY_RAW;
    socket.send(frame, options, callback);
  }

  protected doClose(done: () => void): void {
    this.#socket.close();
    done();
  }

  destroy(): void {
    this.readyState = "closing";
    this.#socket.terminate();
  }
}

function adaptCallback(callback: SendCallback): (error?: Error | null) => void {
  return (error) => callback(error ?? undefined);
}

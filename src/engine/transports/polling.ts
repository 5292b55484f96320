/**
 * The HTTP long-polling transport. The client keeps one GET pending, answered with every packet
 * waiting for it (joined by the record separator in revision 4), and POSTs its own packets.
 * Revision 3 payloads use length prefixes, and binary framing for XHR2 clients.
 * @module
 */

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { encodeText, MESSAGE_PREFIX_LENGTH } from "../../protocol/engine/packet.js";
import {
  type EnginePacket,
  EnginePacketType,
  type EnginePayloadResult,
  makePacket,
} from "../../protocol/engine/packet-types.js";
import { decodePayload, PAYLOAD_SEPARATOR } from "../../protocol/engine/payload.js";
import { decodePayloadV3, encodePayloadV3 } from "../../protocol/engine/v3-payload.js";
import { firstHeaderValue } from "../../protocol/websocket/http-tokens.js";
import { EngineErrorCode, respondWithError } from "../errors.js";
import { answerWithoutBody } from "../http-answer.js";
import { compressBody, negotiateEncoding } from "../http-compression.js";
import type { ResolvedEngineOptions } from "../options.js";
import type { PreparedEngineMessage } from "../prepared-message.js";
import {
  controlPacket,
  type OutgoingPacket,
  outgoingPacket,
  type SendCallback,
  Transport,
} from "./transport.js";

/** How long a close waits for the client's next GET to carry the `close` packet. */
const CLOSE_TIMEOUT = 30_000;

const NOOP: OutgoingPacket = controlPacket(EnginePacketType.Noop);
const CLOSE: OutgoingPacket = controlPacket(EnginePacketType.Close);

/** What the server gives its polling transports: one object for all of them. */
export interface PollingSettings {
  /** The server's options (its own object: a change to it applies to every transport). */
  readonly options: Pick<ResolvedEngineOptions, "maxHttpBufferSize" | "httpCompression">;
  /**
   * The server's part in every response's headers (the session cookie, its `headers` events),
   * before the transport's `headers` listeners: one function for all transports, where a
   * listener would be a closure per session.
   */
  onHeaders(headers: OutgoingHttpHeaders, request: IncomingMessage, sid: string): void;
}

/** HTTP long-polling. */
export class PollingTransport extends Transport {
  readonly name = "polling";
  readonly #settings: PollingSettings;
  #pollRequest: IncomingMessage | null = null;
  #pollResponse: ServerResponse | null = null;
  /** A GET is pending and nothing is being written to it. */
  #writable = false;
  #dataRequest: IncomingMessage | null = null;
  /** A close waiting for the next GET to carry the `close` packet. */
  #pendingClose: (() => void) | null = null;
  #closeTimer: NodeJS.Timeout | null = null;
  /** Bytes of the response being written. */
  #inFlight = 0;
  /** The client was sent the close packet: closing need not wait for it. */
  #closeSent = false;

  constructor(
    request: IncomingMessage,
    protocol: 3 | 4,
    supportsBinary: boolean,
    settings: PollingSettings,
  ) {
    super(request, protocol, supportsBinary);
    this.#settings = settings;
  }

  get writable(): boolean {
    return this.#writable;
  }

  get bufferedAmount(): number {
    return this.#inFlight;
  }

  /** Takes a request of this session: GET waits for packets, POST brings packets. */
  onRequest(request: IncomingMessage, response: ServerResponse): void {
    if (request.method === "GET") this.#onPoll(request, response);
    else if (request.method === "POST") this.#onData(request, response);
    else respondWithError(response, EngineErrorCode.BadRequest, { name: "BAD_METHOD" });
  }

  #onPoll(request: IncomingMessage, response: ServerResponse): void {
    if (this.#pollResponse !== null) {
      // The protocol allows one pending GET; a second one means a broken or hostile client.
      respondWithError(response, EngineErrorCode.BadRequest, { name: "POLL_OVERLAP" });
      this.onError("overlap from client");
      return;
    }
    if (this.readyState === "closed") {
      this.#respond(request, response, [CLOSE]);
      return;
    }
    this.#pollRequest = request;
    this.#pollResponse = response;
    this.#writable = true;
    response.once("close", () => {
      if (this.#pollResponse === response) {
        this.#pollRequest = null;
        this.#pollResponse = null;
        this.#writable = false;
        this.onError("poll connection closed prematurely");
      }
    });
    if (this.#pendingClose !== null) {
      // send() appends the close packet.
      this.send([NOOP]);
      return;
    }
    this.onDrain();
  }

  #onData(request: IncomingMessage, response: ServerResponse): void {
    if (this.#dataRequest !== null) {
      respondWithError(response, EngineErrorCode.BadRequest, { name: "POST_OVERLAP" });
      this.onError("data request overlap from client");
      return;
    }
    const binary = request.headers["content-type"] === "application/octet-stream";
    if (binary && this.protocol === 4) {
      // Revision 4 payloads are always text; binary travels as base64.
      respondWithError(response, EngineErrorCode.BadRequest, { name: "INVALID_CONTENT" });
      this.onError("invalid content");
      return;
    }
    const limit = this.#settings.options.maxHttpBufferSize;
    const declared = Number(request.headers["content-length"]);
    if (declared > limit) {
      this.#tooLarge(request, response);
      return;
    }
    this.#dataRequest = request;
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (): void => {
      done = true;
      request.off("data", onChunk);
      request.off("end", onEnd);
      if (this.#dataRequest === request) this.#dataRequest = null;
    };
    const onChunk = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        finish();
        this.#tooLarge(request, response);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
      this.#onPayload(request, response, binary ? body : body.toString());
    };
    request.on("data", onChunk);
    request.on("end", onEnd);
    request.once("close", () => {
      if (done) return;
      finish();
      this.onError("data request connection closed prematurely");
    });
  }

  /**
   * Answers 413 and ends the session. The rest of the body is never parsed nor kept; the
   * connection closes once the client has read the answer (see http-answer.ts for why it is not
   * cut at once).
   */
  #tooLarge(request: IncomingMessage, response: ServerResponse): void {
    answerWithoutBody(request, response, 413, {}, "");
    this.onError("payload too large");
  }

  #onPayload(request: IncomingMessage, response: ServerResponse, body: string | Buffer): void {
    let result: EnginePayloadResult;
    if (this.protocol === 4) result = decodePayload(body as string);
    else result = decodePayloadV3(body);
    if (!result.ok) {
      respondWithError(response, EngineErrorCode.BadRequest, { name: "PARSE_ERROR" });
      this.onMalformed(result.reason);
      return;
    }
    // text/html rather than text/plain keeps old user agents from offering a download.
    const headers: OutgoingHttpHeaders = { "Content-Type": "text/html", "Content-Length": 2 };
    response.writeHead(200, this.#headers(request, headers));
    response.end("ok");
    for (const incoming of result.packets) {
      if (incoming.type === EnginePacketType.Close) {
        this.onClose();
        return;
      }
      this.onPacket(incoming);
    }
  }

  send(packets: OutgoingPacket[]): void {
    const request = this.#pollRequest;
    const response = this.#pollResponse;
    if (!this.#writable || request === null || response === null) {
      failCallbacks(packets, new Error("The transport is not writable"));
      return;
    }
    this.#writable = false;
    this.#pollRequest = null;
    this.#pollResponse = null;
    const pendingClose = this.#pendingClose;
    if (pendingClose !== null) {
      this.#pendingClose = null;
      packets = [...packets, CLOSE];
    }
    if (packets[packets.length - 1].type === EnginePacketType.Close) this.#closeSent = true;
    this.#respond(request, response, packets);
    pendingClose?.();
  }

  /** Answers the pending GET with this one packet (see {@link Transport.write}). */
  write(
    type: EnginePacketType,
    data: string | Uint8Array | undefined,
    prepared: PreparedEngineMessage | null,
    compress: boolean,
    callback: SendCallback | undefined,
  ): number {
    this.send([outgoingPacket(type, data, prepared, compress, callback)]);
    return this.bufferedAmount;
  }

  /** A payload is text: the message is decoded (see {@link Transport.writeUtf8}). */
  writeUtf8(bytes: Buffer, compress: boolean): number {
    const text = bytes.toString("utf8", MESSAGE_PREFIX_LENGTH);
    return this.write(EnginePacketType.Message, text, null, compress, undefined);
  }

  /** Writes `packets` as the response to a GET. */
  #respond(request: IncomingMessage, response: ServerResponse, packets: OutgoingPacket[]): void {
    const body = this.#encode(packets);
    const headers: OutgoingHttpHeaders = {
      "Content-Type":
        typeof body === "string" ? "text/plain; charset=UTF-8" : "application/octet-stream",
    };
    const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    this.#inFlight = length;
    const done = (error?: Error): void => {
      this.#inFlight = 0;
      for (const p of packets) if (p.callback) p.callback(error);
    };
    const compression = this.#settings.options.httpCompression;
    const encoding =
      compression && length >= compression.threshold && packets.some((p) => p.compress)
        ? negotiateEncoding(firstHeaderValue(request.headers["accept-encoding"]))
        : null;
    if (compression && encoding !== null) {
      compressBody(body, encoding, compression.zlib, (error, compressed) => {
        if (error) {
          if (!response.headersSent) response.writeHead(500);
          response.end();
          done(error);
          return;
        }
        headers["Content-Encoding"] = encoding;
        this.#write(request, response, headers, compressed, done);
      });
      return;
    }
    this.#write(request, response, headers, body, done);
  }

  #write(
    request: IncomingMessage,
    response: ServerResponse,
    headers: OutgoingHttpHeaders,
    body: string | Uint8Array,
    done: (error?: Error) => void,
  ): void {
    if (response.destroyed || response.writableEnded) {
      done(new Error("The poll request was closed"));
      return;
    }
    headers["Content-Length"] = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    response.writeHead(200, this.#headers(request, headers));
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      done(error);
    };
    response.once("finish", () => settle());
    response.once("close", () => settle(new Error("The poll request was closed")));
    response.end(body);
  }

  #encode(packets: readonly OutgoingPacket[]): string | Uint8Array {
    if (this.protocol === 4) {
      let out = "";
      for (let i = 0; i < packets.length; i++) {
        if (i > 0) out += PAYLOAD_SEPARATOR;
        const p = packets[i];
        out += p.prepared !== null ? p.prepared.pollingText(4) : encodeText(p.type, p.data);
      }
      return out;
    }
    return encodePayloadV3(packets.map(toPacket), this.supportsBinary);
  }

  /** Response headers: the session's listeners (cookie, user hooks) may add to them. */
  #headers(request: IncomingMessage, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    // A poll answer is specific to this moment; no cache may keep it.
    headers["Cache-Control"] = "no-store";
    const agent = request.headers["user-agent"];
    if (agent && (agent.includes(";MSIE") || agent.includes("Trident/"))) {
      // Old Internet Explorer's XSS filter mangles some payloads.
      headers["X-XSS-Protection"] = "0";
    }
    this.#settings.onHeaders(headers, request, this.sid);
    this.emit("headers", headers, request);
    return headers;
  }

  protected doClose(done: () => void): void {
    if (this.#dataRequest !== null) {
      this.#dataRequest.destroy();
      this.#dataRequest = null;
    }
    const finish = (): void => {
      if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
      this.#closeTimer = null;
      this.#pendingClose = null;
      done();
      this.onClose();
    };
    if (this.#writable) {
      this.send([CLOSE]);
      finish();
    } else if (this.discarded || this.#closeSent) {
      finish();
    } else {
      this.#pendingClose = finish;
      this.#closeTimer = setTimeout(finish, CLOSE_TIMEOUT);
      // Waiting for a client that may never come back must not keep the process alive.
      this.#closeTimer.unref();
    }
  }

  protected override onClose(): void {
    if (this.readyState === "closed") return;
    // A GET still pending gets an empty answer rather than hanging until its timeout.
    if (this.#writable) this.send([NOOP]);
    super.onClose();
  }

  destroy(): void {
    if (this.#dataRequest !== null) {
      this.#dataRequest.destroy();
      this.#dataRequest = null;
    }
    this.#pendingClose = null;
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    if (this.#writable) this.send([CLOSE]);
    this.readyState = "closing";
    this.onClose();
  }
}

function toPacket(p: OutgoingPacket): EnginePacket {
  return makePacket(p.type, p.data);
}

function failCallbacks(packets: readonly OutgoingPacket[], error: Error): void {
  for (const p of packets) if (p.callback) process.nextTick(p.callback, error);
}

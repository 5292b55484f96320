/**
 * The `WebSocket` class, for both ends of a connection. One object offers two APIs:
 * - the browser's (WHATWG WebSocket standard): `readyState`, `onmessage`, `addEventListener`,
 *   `send(string | ArrayBuffer | ArrayBufferView | Blob)`, `close(code, reason)`...;
 * - ws's Node API: an `EventEmitter` with `message(data, isBinary)`, `ping`, `pong`,
 *   `close(code, reason)`, `send(data, options, callback)`, `terminate()`, `pause()`...
 *
 * The connection's state machine and closing handshake (RFC 6455 section 7) are the protocol
 * core's {@link WebSocketConnection}, which this file binds to the socket and a timer; frames
 * are parsed by the protocol core and written through a per-connection queue that coalesces
 * everything sent in one event-loop turn into one socket write.
 * @module
 */

import { EventEmitter } from "node:events";
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { ClientHttp2Session } from "node:http2";
import type { Duplex } from "node:stream";
import { toArrayBuffer } from "../protocol/array-buffer.js";
import { debugPreview } from "../protocol/debug.js";
import {
  isValidApplicationCloseCode,
  isValidWireCloseCode,
} from "../protocol/websocket/close-codes.js";
import {
  MAX_CLOSE_REASON,
  ReadyState,
  WebSocketConnection,
} from "../protocol/websocket/connection.js";
import { MAX_CONTROL_PAYLOAD, Opcode, type Role } from "../protocol/websocket/constants.js";
import { encodeFrame } from "../protocol/websocket/frame-serializer.js";
import {
  type AnyBrowserListener,
  type BrowserEventType,
  type BrowserListener,
  type BrowserListenerOptions,
  BrowserListeners,
  isBrowserEventType,
  isBrowserListener,
  type WasClean,
  type WebSocketBrowserEventMap,
} from "./browser-listeners.js";
import {
  type ClientHandshake,
  type ClientHandshakeEvents,
  type ClientRequestOptions,
  startClientHandshake,
} from "./client-handshake.js";
import { debugLogger } from "./debug.js";
import type { CloseEvent, ErrorEvent, Event, MessageEvent } from "./events.js";
import { startHttp2ClientHandshake } from "./http2-client-handshake.js";
import {
  type ConnectionLimitOptions,
  type ConnectionLimits,
  DEFAULT_LIMITS,
  resolveConnectionLimits,
} from "./limits.js";
import { listenerTable, namesWithListeners, useListenerTable } from "./listener-table.js";
import {
  MessageReceiver,
  type ReceiverHandlers,
  type ReceiverOptions,
} from "./message-receiver.js";
import { FrameFlags, type GenerateMask, MessageSender } from "./message-sender.js";
import type { PerMessageDeflate, PerMessageDeflateOptions } from "./permessage-deflate.js";
import { type SendData, toMessagePayload, toPayloadBytes } from "./send-data.js";
import type { WebSocketServer, WebSocketServerOptions } from "./server.js";
import { WebSocketError } from "./websocket-error.js";
import type { createWebSocketStream } from "./websocket-stream.js";
import { toSubprotocolList, toWebSocketUrl } from "./websocket-url.js";
import { type FlushListener, WriteQueue } from "./write-queue.js";

const debug = debugLogger("duplexio:websocket");

/** ws's default: a single message may not exceed 100 MiB (server and client alike). */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 10;

const { CONNECTING, OPEN, CLOSING, CLOSED } = ReadyState;
const STATE_NAMES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];

const EMPTY_BUFFER = Buffer.alloc(0);

/** What `binaryType` selects for binary messages: Buffer (default), ArrayBuffer, Blob or Buffer[]. */
export type BinaryType = "nodebuffer" | "arraybuffer" | "blob" | "fragments";

/** A received message as the Node `message` event gives it (text messages are always a Buffer). */
export type RawData = Buffer | ArrayBuffer | Blob | Buffer[];

export type { SendData } from "./send-data.js";

/** Options of the Node `send`. */
export interface SendOptions {
  /** Binary frame; default: true unless `data` is a string. */
  binary?: boolean;
  /** Compress when permessage-deflate is in use (default true; small messages never are). */
  compress?: boolean;
  /** Last fragment of the message (default true); false starts or continues a fragmented one. */
  fin?: boolean;
  /** Mask the frame; default: true for clients, false for servers, as RFC 6455 requires. */
  mask?: boolean;
}

/** Called when the data was written to the socket, or with the reason it was not. */
export type SendCallback = (error?: Error | null) => void;

/**
 * Options of the client constructor. Node TLS and agent options are passed to `https.request`;
 * the connection limits (`maxBufferedAmount`, `backpressure`, `maxFragments`, ...) are those of
 * {@link ConnectionLimitOptions}; `maxPendingAutoPongs`, `skipUTF8Validation` and
 * `allowSynchronousEvents` those of {@link ConnectionOptions}.
 */
export interface WebSocketOptions
  extends ClientRequestOptions,
    ConnectionLimitOptions,
    ConnectionOptions {
  /** Extra request headers. */
  headers?: OutgoingHttpHeaders;
  /** Ms the opening handshake may take (per request, redirects included); default: no limit. */
  handshakeTimeout?: number;
  /** Offer permessage-deflate (default true, as ws); false offers nothing. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest message accepted, in bytes (default 100 MiB); 0 means no limit. */
  maxPayload?: number;
  /** Follow 3xx redirects (default false, as ws; browsers never follow them). */
  followRedirects?: boolean;
  /** Most redirects followed (default 10). */
  maxRedirects?: number;
  /** `Origin` header to send. */
  origin?: string;
  /** Ms the closing handshake may take before the socket is destroyed (default 30 s). */
  closeTimeout?: number;
  /** Answer pings with pongs automatically (default true). */
  autoPong?: boolean;
  /**
   * Fills the 4-byte mask key of each frame sent (default: crypto-strength random keys). The key
   * is applied whatever it is; a constant key (e.g. zero, to measure without masking costs) lets
   * anyone who sees the traffic predict the bytes on the wire, which RFC 6455 section 10.3 warns
   * about: for benchmarks and tests.
   */
  generateMask?: GenerateMask;
  /**
   * Called with the upgrade request (and each redirected one) instead of ending it: set headers
   * late, write a body, then call `request.end()` yourself (ws's `finishRequest`).
   */
  finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
  /**
   * Connect over HTTP/2 (RFC 8441 extended CONNECT) rather than an HTTP/1.1 upgrade: `true`
   * opens a session to the URL's origin (closed with this WebSocket; the TLS options apply),
   * or pass a `ClientHttp2Session` of yours to run the WebSocket as one stream of it. The server
   * must advertise SETTINGS_ENABLE_CONNECT_PROTOCOL, else the handshake fails. Not with
   * `followRedirects`, `finishRequest` or `agent` (HTTP/1.1 request options); no `upgrade`
   * event. Default false.
   */
  http2?: boolean | ClientHttp2Session;
}

/**
 * Per-connection options of ws that both {@link WebSocketOptions} and the server's options have.
 */
export interface ConnectionOptions {
  /**
   * Most automatic pongs that may wait unwritten (the peer pings but does not read); the next
   * ping then terminates the connection (default 60, as ws; 0: no limit). Pings answered by one
   * waiting pong (it takes the newest payload) each count.
   */
  maxPendingAutoPongs?: number;
  /**
   * Deliver text messages and close reasons without checking that they are UTF-8 (default
   * false). Only for peers trusted to send valid text: invalid bytes then reach the application
   * (a close reason is decoded with U+FFFD for them).
   */
  skipUTF8Validation?: boolean;
  /**
   * Whether several `message`, `ping` and `pong` events may be emitted in one event-loop turn
   * (default true, as ws 8.17+); false emits at most one per `setImmediate` turn, so microtasks
   * and `process.nextTick` callbacks queued by a listener run before the next event.
   */
  allowSynchronousEvents?: boolean;
}

/** Node events and their arguments (ws-compatible). */
export interface WebSocketEventMap {
  /** The connection is established. */
  open: [];
  /** A message; `data` is a Buffer for text, and for binary what `binaryType` selects. */
  message: [data: RawData, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** The connection is closed: the peer's close code (1005 none, 1006 abnormal) and reason. */
  close: [code: number, reason: Buffer];
  /** Emitted only when someone listens; a connection failure is always followed by `close`. */
  error: [error: Error];
  /** Client: the server's 101 response, before it is checked. */
  upgrade: [response: IncomingMessage];
  /** Client: a response other than 101; with a listener, reading it is the listener's job. */
  "unexpected-response": [request: ClientRequest, response: IncomingMessage];
  /**
   * Client, with `followRedirects`: a redirect to `url` is being followed; `request` is the new
   * request, headers not sent yet. With a listener no header is removed on a redirect to
   * another host (the listener decides, with `request.removeHeader`), as in ws.
   */
  redirect: [url: string, request: ClientRequest];
  /** Everything queued has been written: `bufferedAmount` is back to 0. */
  drain: [];
}

export type {
  BrowserListener,
  BrowserListenerOptions,
  WebSocketBrowserEventMap,
} from "./browser-listeners.js";

/** A WebSocket's listener table (see listener-table.ts), with its usual events declared. */
const WebSocketListeners = listenerTable(["message", "close", "error"]);

/** CloseEvent.wasClean of a socket, for its browser-style listeners (set inside the class). */
let wasCleanOf: WasClean;

/** Marks construction of a server-side socket (acceptWebSocket) rather than a client. */
const SERVER_ROLE: unique symbol = Symbol("server role");

/** Options of {@link acceptWebSocket}. */
export interface AcceptOptions {
  maxPayload: number;
  protocol: string;
  extensions: string;
  deflate: PerMessageDeflate | null;
  closeTimeout?: number;
  autoPong?: boolean;
  maxPendingAutoPongs?: number;
  /** One object shared by a server's connections. */
  receive?: ReceiverOptions;
  /** The class to construct: {@link WebSocket} or a subclass (the server's `WebSocket` option). */
  WebSocket?: typeof WebSocket;
  /** Passed to the class's constructor as its third argument, as ws does. */
  constructorOptions?: object;
  /** Resolved connection limits (default: {@link DEFAULT_LIMITS}). */
  limits?: ConnectionLimits;
  /**
   * Called when the socket closes, just before its `close` event: one function for all of a
   * server's sockets, where a `close` listener would be one closure (and `once` wrapper) each.
   */
  onClosed?: (socket: WebSocket) => void;
}

let acceptImplementation: (socket: Duplex, head: Buffer, options: AcceptOptions) => WebSocket;

/** The connection's reactions and outputs, written inside the class (they use its private state). */
interface HooksImplementation {
  message(ws: WebSocket, data: Buffer, isBinary: boolean): void;
  ping(ws: WebSocket, data: Buffer): void;
  pong(ws: WebSocket, data: Buffer): void;
  flow(ws: WebSocket, flowing: boolean): void;
  flushed(ws: WebSocket): void;
  data(ws: WebSocket, chunk: Buffer): void;
  end(ws: WebSocket): void;
  socketClose(ws: WebSocket): void;
  writeClose(ws: WebSocket, payload: Uint8Array): void;
  writePong(ws: WebSocket, payload: Uint8Array): void;
  endTransport(ws: WebSocket): void;
  destroyTransport(ws: WebSocket): void;
  stopInput(ws: WebSocket): void;
  finishInput(ws: WebSocket): void;
  abandonHandshake(ws: WebSocket): void;
  closed(ws: WebSocket, code: number, reason: string, error: Error | null): void;
}

let hooksImplementation: HooksImplementation;

function onCloseTimer(connection: NodeConnection): void {
  connection.closeTimerFired();
}

/**
 * The connection's state machine ({@link WebSocketConnection}) bound to the socket and the one
 * close timer, and what the receiver and the write queue call back: one object per connection,
 * its methods on the prototype, in place of a closure per callback. The close frames received
 * reach the state machine straight from the receiver; data messages go past it.
 */
class NodeConnection extends WebSocketConnection implements ReceiverHandlers, FlushListener {
  readonly ws: WebSocket;
  #closeTimer: NodeJS.Timeout | null = null;

  constructor(ws: WebSocket, role: Role) {
    super(role);
    this.ws = ws;
  }

  message(data: Buffer, isBinary: boolean): void {
    hooksImplementation.message(this.ws, data, isBinary);
  }

  ping(data: Buffer): void {
    hooksImplementation.ping(this.ws, data);
  }

  pong(data: Buffer): void {
    hooksImplementation.pong(this.ws, data);
  }

  error(closeCode: number, message: string): void {
    this.fail(new WebSocketError(message, closeCode), closeCode);
  }

  flow(flowing: boolean): void {
    hooksImplementation.flow(this.ws, flowing);
  }

  flushed(): void {
    hooksImplementation.flushed(this.ws);
  }

  protected override writeClose(payload: Uint8Array): void {
    hooksImplementation.writeClose(this.ws, payload);
  }

  protected override writePong(payload: Uint8Array): void {
    hooksImplementation.writePong(this.ws, payload);
  }

  protected override endTransport(): void {
    hooksImplementation.endTransport(this.ws);
  }

  protected override destroyTransport(): void {
    hooksImplementation.destroyTransport(this.ws);
  }

  protected override armCloseTimer(ms: number): void {
    this.#closeTimer = setTimeout(onCloseTimer, ms, this);
  }

  protected override clearCloseTimer(): void {
    if (this.#closeTimer === null) return;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
  }

  protected override stopInput(): void {
    hooksImplementation.stopInput(this.ws);
  }

  protected override finishInput(): void {
    hooksImplementation.finishInput(this.ws);
  }

  protected override abandonHandshake(): void {
    hooksImplementation.abandonHandshake(this.ws);
  }

  protected override closed(
    code: number,
    reason: string,
    _wasClean: boolean,
    error: Error | null,
  ): void {
    hooksImplementation.closed(this.ws, code, reason, error);
  }
}

/** The socket's own connection, for its listeners: shared functions, called with the socket as `this`. */
const kWebSocket = Symbol("duplexio websocket");

type OwnedSocket = Duplex & { [kWebSocket]: WebSocket };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  hooksImplementation.data(this[kWebSocket], chunk);
}

function onSocketEnd(this: OwnedSocket): void {
  hooksImplementation.end(this[kWebSocket]);
}

function onSocketClose(this: OwnedSocket): void {
  hooksImplementation.socketClose(this[kWebSocket]);
}

/**
 * As in ws, transport errors after the handshake are not reported: the peer went away and
 * `close` says so with 1006. The socket is destroyed so `close` follows.
 */
function onSocketError(this: Duplex): void {
  this.destroy();
}

/**
 * A message encoded once (server frame, unmasked) for sending to many sockets with
 * {@link WebSocket.sendPrepared}. Built by {@link prepareMessage}.
 */
export class PreparedMessage {
  /** Binary or text message. */
  readonly binary: boolean;
  /** The message payload. */
  readonly payload: Uint8Array;
  /** The complete unmasked frame. */
  readonly frame: Uint8Array;

  /** @internal Use {@link prepareMessage}. */
  constructor(payload: Uint8Array, binary: boolean) {
    this.binary = binary;
    this.payload = payload;
    this.frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, payload);
  }
}

/**
 * Encodes a message once for a broadcast: the same bytes are then written to every socket with
 * `sendPrepared`, without encoding or compressing per socket. Sockets with permessage-deflate
 * get it uncompressed, which RFC 7692 allows (RSV1 clear). `binary` defaults to true unless
 * `data` is a string.
 */
export function prepareMessage(
  data: string | ArrayBufferLike | ArrayBufferView,
  options?: { binary?: boolean },
): PreparedMessage {
  return new PreparedMessage(toPayloadBytes(data), options?.binary ?? typeof data !== "string");
}

/**
 * @internal Used by WebSocketServer after a successful upgrade (the 101 response is written).
 * Returns an OPEN socket; `head` (bytes read past the request) is parsed first.
 */
export function acceptWebSocket<T extends typeof WebSocket = typeof WebSocket>(
  socket: Duplex,
  head: Buffer,
  options: AcceptOptions & { WebSocket?: T | undefined },
): InstanceType<T> {
  return acceptImplementation(socket, head, options) as InstanceType<T>;
}

/**
 * A WebSocket connection. `new WebSocket(url, protocols?, options?)` connects as a client;
 * servers get theirs from `WebSocketServer`.
 */
export class WebSocket extends EventEmitter<WebSocketEventMap> {
  /** The connection is being established. */
  static readonly CONNECTING = CONNECTING;
  /** The connection is established: messages can be sent. */
  static readonly OPEN = OPEN;
  /** The closing handshake has started. */
  static readonly CLOSING = CLOSING;
  /** The connection is closed. */
  static readonly CLOSED = CLOSED;

  /**
   * ws's `WebSocket.Server`: the {@link WebSocketServer} class, for code written against ws's
   * default export (`import WebSocket from "duplexio/websocket"; new WebSocket.Server(...)`).
   * Set when `duplexio/websocket` loads.
   */
  declare static Server: typeof WebSocketServer;
  /** ws's `WebSocket.WebSocketServer`: the {@link WebSocketServer} class. */
  declare static WebSocketServer: typeof WebSocketServer;
  /** ws's `WebSocket.WebSocket`: this class. */
  declare static WebSocket: typeof WebSocket;
  /** ws's `WebSocket.createWebSocketStream`: see `createWebSocketStream` of `duplexio/websocket`. */
  declare static createWebSocketStream: typeof createWebSocketStream;

  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #role: Role;
  #url = "";
  #protocol = "";
  #extensions = "";
  #binaryType: BinaryType = "nodebuffer";
  #maxPayload = DEFAULT_MAX_PAYLOAD;
  #receive: ReceiverOptions | null = null;
  #generateMask: GenerateMask | null = null;
  #maskByDefault: boolean;
  #limits: ConnectionLimits = DEFAULT_LIMITS;
  /** Messages refused by the "drop" backpressure policy. */
  #dropped = 0;
  /** The "drop" policy refused the first fragment of the message being sent: drop the rest. */
  #droppingMessage = false;

  #handshake: ClientHandshake | null = null;
  #socket: Duplex | null = null;
  #deflate: PerMessageDeflate | null = null;
  #queue: WriteQueue | null = null;
  #sender: MessageSender | null = null;
  #receiver: MessageReceiver | null = null;
  /**
   * The state machine (readyState, closing handshake, automatic pongs, close timer), and what
   * the receiver and the write queue call back.
   */
  #connection: NodeConnection;
  /** Bytes came in or a frame went out since the last {@link _shedIdleState}. */
  #active = false;

  /** Bytes passed to send() after the connection closed (the standard adds them to bufferedAmount). */
  #discardedBytes = 0;
  /** The browser-style listeners (`onopen`..., `addEventListener`); made when the first one is. */
  #browserListeners: BrowserListeners | null = null;
  /** Server sockets: the server's bookkeeping, told just before `close` is emitted. */
  #onClosed: ((socket: WebSocket) => void) | null = null;

  /**
   * Connects to `url` (ws:, wss:, or http:/https: which map to them). Throws a `SyntaxError`
   * DOMException for an invalid URL or subprotocol list, as browsers do; connection failures
   * come later as an `error` event followed by `close` (1006).
   * @param protocols one subprotocol or a list (or the options, ws-style)
   */
  constructor(
    url: string | URL,
    protocols?: string | readonly string[] | WebSocketOptions,
    options?: WebSocketOptions,
  ) {
    super();
    useListenerTable(this, WebSocketListeners);
    if ((url as unknown) === SERVER_ROLE) {
      this.#role = "server";
      this.#maskByDefault = false;
      this.#connection = new NodeConnection(this, "server");
      return;
    }
    this.#role = "client";
    this.#maskByDefault = true;
    this.#connection = new NodeConnection(this, "client");
    if (protocols !== undefined && protocols !== null && typeof protocols === "object") {
      if (!Array.isArray(protocols) && !(Symbol.iterator in protocols)) {
        options = protocols as WebSocketOptions;
        protocols = undefined;
      }
    }
    const parsed = toWebSocketUrl(String(url));
    const list = toSubprotocolList(protocols as string | readonly string[] | undefined);
    const settings: WebSocketOptions = options ?? {};
    this.#url = parsed.href;
    if (settings.maxPayload !== undefined) this.#maxPayload = settings.maxPayload;
    this.#connection.configure(settings);
    this.#receive = {
      skipUtf8Validation: settings.skipUTF8Validation,
      allowSynchronousEvents: settings.allowSynchronousEvents,
    };
    this.#generateMask = settings.generateMask ?? null;
    const finishRequest = settings.finishRequest;
    this.#limits = resolveConnectionLimits(settings);
    const deflateOption = settings.perMessageDeflate ?? true;
    const start =
      settings.http2 === undefined || settings.http2 === false
        ? startClientHandshake
        : (handshake: Parameters<typeof startClientHandshake>[0], events: ClientHandshakeEvents) =>
            startHttp2ClientHandshake(
              handshake,
              settings.http2 === true ? null : (settings.http2 as ClientHttp2Session),
              events,
            );
    this.#handshake = start(
      {
        url: parsed,
        protocols: list,
        headers: settings.headers,
        origin: settings.origin,
        handshakeTimeout: settings.handshakeTimeout,
        deflate: deflateOption === false ? null : deflateOption === true ? {} : deflateOption,
        maxPayload: this.#maxPayload,
        followRedirects: settings.followRedirects ?? false,
        maxRedirects: settings.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
        request: settings,
        finishRequest:
          finishRequest === undefined ? undefined : (request) => finishRequest(request, this),
      },
      this.#handshakeEvents(),
    );
  }

  static {
    acceptImplementation = (socket, head, options) => {
      const Class = options.WebSocket ?? WebSocket;
      // ws constructs the server's class with the server's options as the third argument; a
      // subclass passes its arguments on to this constructor, which sees the server role.
      const ws = new Class(SERVER_ROLE as unknown as string, undefined, options.constructorOptions);
      if (!(#role in ws)) throw new TypeError('"WebSocket" must be WebSocket or a subclass of it');
      ws.#maxPayload = options.maxPayload;
      ws.#protocol = options.protocol;
      ws.#extensions = options.extensions;
      ws.#deflate = options.deflate;
      ws.#connection.configure(options);
      if (options.receive !== undefined) ws.#receive = options.receive;
      if (options.limits !== undefined) ws.#limits = options.limits;
      if (options.onClosed !== undefined) ws.#onClosed = options.onClosed;
      ws.#attach(socket, head);
      ws.#connection.opened();
      return ws;
    };
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    return this.#connection.readyState;
  }

  /** The state machine's readyState (it alone changes it). */
  get #readyState(): ReadyState {
    return this.#connection.readyState;
  }

  /** Whether the closing handshake completed (the browser CloseEvent's `wasClean`). */
  get #wasClean(): boolean {
    return this.#connection.wasClean;
  }

  /** The URL connected to (after redirects); "" on the server side. */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server selected, or "". */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions in use (the `Sec-WebSocket-Extensions` value agreed on), or "". */
  get extensions(): string {
    return this.#extensions;
  }

  /** The events that have listeners (the listener table declares some ahead, empty). */
  override eventNames(): (keyof WebSocketEventMap)[] {
    return namesWithListeners(this) as (keyof WebSocketEventMap)[];
  }

  /** What binary messages are delivered as; invalid values are ignored, as browsers do. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    if (
      value === "nodebuffer" ||
      value === "arraybuffer" ||
      value === "blob" ||
      value === "fragments"
    ) {
      this.#binaryType = value;
    }
  }

  /**
   * Bytes sent but not yet written to the network: queued frames' payloads, the socket's buffer,
   * and (as the standard says) data passed to `send` after closing.
   */
  get bufferedAmount(): number {
    return this.#pendingBytes() + this.#discardedBytes;
  }

  /**
   * Messages not sent because more than `maxBufferedAmount` bytes were waiting, with the "drop"
   * backpressure policy (each such send's callback got an error). Always 0 with "close".
   */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether delivery is paused by {@link pause}. */
  get isPaused(): boolean {
    return this.#receiver?.isPaused ?? false;
  }

  get onopen(): BrowserListener<Event> | null {
    return this.#browserListeners?.attribute("open") ?? null;
  }
  set onopen(listener: BrowserListener<Event> | null) {
    this.#setAttribute("open", listener);
  }
  get onmessage(): BrowserListener<MessageEvent> | null {
    return this.#browserListeners?.attribute("message") ?? null;
  }
  set onmessage(listener: BrowserListener<MessageEvent> | null) {
    this.#setAttribute("message", listener);
  }
  get onerror(): BrowserListener<ErrorEvent> | null {
    return this.#browserListeners?.attribute("error") ?? null;
  }
  set onerror(listener: BrowserListener<ErrorEvent> | null) {
    this.#setAttribute("error", listener);
  }
  get onclose(): BrowserListener<CloseEvent> | null {
    return this.#browserListeners?.attribute("close") ?? null;
  }
  set onclose(listener: BrowserListener<CloseEvent> | null) {
    this.#setAttribute("close", listener);
  }

  /**
   * Adds a browser-style listener for "open", "message", "error" or "close" (other types are
   * ignored). Adding the same listener twice for a type has no effect, as in the DOM.
   */
  addEventListener<K extends BrowserEventType>(
    type: K,
    listener: BrowserListener<WebSocketBrowserEventMap[K]> | null,
    options?: boolean | BrowserListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: BrowserListener<Event> | null,
    options?: boolean | BrowserListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: AnyBrowserListener | null,
    options?: boolean | BrowserListenerOptions,
  ): void {
    if (!isBrowserEventType(type) || !isBrowserListener(listener)) return;
    this.#listeners().add(type, listener, options);
  }

  /** Removes a listener added with {@link addEventListener}. */
  removeEventListener<K extends BrowserEventType>(
    type: K,
    listener: BrowserListener<WebSocketBrowserEventMap[K]> | null,
    options?: boolean | BrowserListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: BrowserListener<Event> | null,
    options?: boolean | BrowserListenerOptions,
  ): void;
  removeEventListener(type: string, listener: AnyBrowserListener | null): void {
    if (!isBrowserEventType(type) || !isBrowserListener(listener)) return;
    this.#browserListeners?.remove(type, listener);
  }

  /**
   * Sends a message. Browser form: `send(data)`; Node form: `send(data, options, callback)`.
   * Throws an `InvalidStateError` DOMException while CONNECTING. After the connection started
   * closing the data is dropped (the callback gets an error; `bufferedAmount` grows, as the
   * standard says). A Blob is sent after it is read, still in call order.
   */
  send(data: SendData, options?: SendOptions | SendCallback, callback?: SendCallback): void {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    if (this.#readyState === CONNECTING) throw notYetOpen();
    debug?.(
      `${this.#role} message out: ${typeof data === "string" ? debugPreview(data) : "<binary>"}`,
    );
    // Text stays a string until its frame leaves the queue (encoded into the outgoing buffer):
    // a string waiting for a slow peer costs no buffer of its own.
    const payload = toMessagePayload(data);
    const text = typeof payload === "string";
    let binary = !text;
    let flags = FrameFlags.Fin | FrameFlags.Compress;
    let mask = this.#maskByDefault;
    if (options !== undefined && options !== null) {
      if (options.binary !== undefined) binary = options.binary;
      if (options.fin === false) flags &= ~FrameFlags.Fin;
      if (options.compress === false) flags &= ~FrameFlags.Compress;
      if (options.mask !== undefined) mask = options.mask;
    }
    if (binary) flags |= FrameFlags.Binary;
    if (mask) flags |= FrameFlags.Mask;
    if (this.#readyState !== OPEN) {
      const size = text
        ? Buffer.byteLength(payload)
        : payload instanceof Uint8Array
          ? payload.length
          : payload.size;
      this.#discard(size, callback);
      return;
    }
    if (this.#overLimit() && this.#refuse((flags & FrameFlags.Fin) !== 0, callback)) return;
    if (text) {
      this.#output().sendText(payload, Buffer.byteLength(payload), flags, callback);
    } else if (payload instanceof Uint8Array) {
      // An array's chunks were joined into a buffer of our own, which may be masked in place.
      this.#output().sendData(payload, Array.isArray(data), flags, callback);
    } else this.#output().sendBlob(payload, flags, callback);
  }

  /**
   * Sends a message prepared once with {@link prepareMessage} (a broadcast): server sockets
   * write the shared frame as it is; client sockets mask a copy.
   */
  sendPrepared(message: PreparedMessage, callback?: SendCallback): void {
    if (this.#readyState === CONNECTING) throw notYetOpen();
    if (this.#readyState !== OPEN) {
      this.#discard(message.payload.length, callback);
      return;
    }
    const sender = this.#output();
    if (sender.fragmenting) {
      // A complete message cannot go between the fragments of another (RFC 6455 section 5.4).
      if (callback !== undefined) {
        process.nextTick(callback, new Error("A fragmented message is being sent"));
      }
      return;
    }
    if (this.#overLimit() && this.#refuse(true, callback)) return;
    if (this.#role === "server") {
      sender.sendEncoded(message.frame, message.payload.length, callback);
      return;
    }
    const flags = FrameFlags.Fin | FrameFlags.Mask | (message.binary ? FrameFlags.Binary : 0);
    sender.sendData(message.payload, false, flags, callback);
  }

  /**
   * Sends a ping (at most 125 bytes: a RangeError otherwise). Throws an `InvalidStateError`
   * DOMException while CONNECTING; after closing started the callback gets an error. A Blob is
   * sent once its bytes are read, in call order with the other sends (as ws does).
   */
  ping(
    data?: SendData | number | SendCallback,
    mask?: boolean | SendCallback,
    callback?: SendCallback,
  ): void {
    this.#sendControl(Opcode.Ping, data, mask, callback);
  }

  /** Sends an unsolicited pong (a heartbeat); same rules as {@link ping}. */
  pong(
    data?: SendData | number | SendCallback,
    mask?: boolean | SendCallback,
    callback?: SendCallback,
  ): void {
    this.#sendControl(Opcode.Pong, data, mask, callback);
  }

  /**
   * Starts the closing handshake: sends a close frame and waits for the peer's (at most
   * `closeTimeout`, then the socket is destroyed). Browser checks: a `code` other than 1000 or
   * 3000-4999 throws an `InvalidAccessError` DOMException (a server socket may also use the other
   * codes valid on the wire, such as 1001 or 1011), a `reason` over 123 UTF-8 bytes a
   * `SyntaxError`. While CONNECTING the connection attempt is abandoned (`error`, then `close`).
   */
  close(code?: number, reason?: string | Buffer): void {
    let closeCode: number | undefined;
    if (code !== undefined) {
      closeCode = clampCode(code);
      const allowed =
        isValidApplicationCloseCode(closeCode) ||
        (this.#role === "server" && isValidWireCloseCode(closeCode));
      if (!allowed) {
        throw new DOMException(
          `The close code must be either 1000, or between 3000 and 4999. ${closeCode} is neither.`,
          "InvalidAccessError",
        );
      }
    }
    let reasonText: string | undefined;
    if (reason !== undefined) {
      reasonText = Buffer.isBuffer(reason) ? reason.toString() : String(reason);
      if (Buffer.byteLength(reasonText) > MAX_CLOSE_REASON) {
        throw new DOMException(
          `The close reason must not be greater than ${MAX_CLOSE_REASON} UTF-8 bytes.`,
          "SyntaxError",
        );
      }
    }
    // A reason without a code cannot be sent (the standard drops it too).
    this.#connection.close(closeCode, reasonText);
  }

  /** Destroys the connection at once, without a closing handshake (`close` reports 1006). */
  terminate(): void {
    this.#connection.terminate();
  }

  /** Stops delivering messages (and reading the socket) until {@link resume}. */
  pause(): void {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED) return;
    this.#input().pause();
  }

  /** Delivers what arrived while paused and reads the socket again. */
  resume(): void {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED) return;
    this.#input().resume();
  }

  // ---- connection set-up -------------------------------------------------------------------

  #handshakeEvents(): ClientHandshakeEvents {
    return {
      upgrade: (response) => {
        this.emit("upgrade", response);
      },
      unexpectedResponse: (request, response) => {
        if (this.listenerCount("unexpected-response") === 0) return false;
        this.emit("unexpected-response", request, response);
        return true;
      },
      unexpectedResponseDone: () => {
        this.#handshake = null;
        this.#finishWithoutConnection(null);
      },
      redirectListened: () => this.listenerCount("redirect") > 0,
      redirect: (url, request) => {
        this.#url = url.href;
        this.emit("redirect", this.#url, request);
      },
      open: (socket, head, protocol, extensions, deflate) => {
        this.#handshake = null;
        this.#protocol = protocol;
        this.#extensions = extensions;
        this.#deflate = deflate;
        this.#attach(socket, head);
        this.#connection.opened();
        this.emit("open");
      },
      fail: (error) => {
        this.#handshake = null;
        this.#finishWithoutConnection(error);
      },
    };
  }

  #abandonHandshake(): void {
    this.#handshake?.abort();
    this.#handshake = null;
    process.nextTick(() =>
      this.#finishWithoutConnection(
        new Error("WebSocket was closed before the connection was established"),
      ),
    );
  }

  /** The connection was never established: `error` (if any), then `close` with 1006. */
  #finishWithoutConnection(error: Error | null): void {
    this.#connection.handshakeFailed(error);
  }

  #attach(socket: Duplex, head: Buffer): void {
    this.#socket = socket;
    const tcp = socket as Duplex & {
      setNoDelay?: (noDelay?: boolean) => unknown;
      setTimeout?: (timeout: number) => unknown;
    };
    // Frames are already coalesced per event-loop turn; Nagle would only add latency.
    if (typeof tcp.setNoDelay === "function") tcp.setNoDelay(true);
    if (typeof tcp.setTimeout === "function") tcp.setTimeout(0);
    // One small object (the connection) takes the receiver's and the queue's calls, and the
    // socket's listeners are shared functions that find this connection through the socket: an
    // idle connection holds no closure of its own (10,000 connections, 10 closures each, were
    // ~1 KB apiece). The write queue and sender are made at the first frame out, the receiver at
    // the first bytes in (or a pause): a connection that stays silent holds neither.
    // Bytes read past the handshake come first; the data listener makes them flow next tick,
    // after whoever created this socket has attached its listeners.
    if (head.length > 0) socket.unshift(head);
    (socket as OwnedSocket)[kWebSocket] = this;
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
  }

  static {
    hooksImplementation = {
      message: (ws, data, isBinary) => ws.#deliverMessage(data, isBinary),
      ping: (ws, data) => {
        // No sender yet (or shed): it holds no unwritten pong.
        ws.#connection.pingReceived(data, ws.#sender?.unwrittenAutoPongs ?? 0);
        ws.emit("ping", data);
      },
      pong: (ws, data) => {
        ws.emit("pong", data);
      },
      flow: (ws, flowing) => {
        if (flowing) ws.#socket!.resume();
        else ws.#socket!.pause();
      },
      flushed: (ws) => {
        if (ws.listenerCount("drain") > 0 && ws.#pendingBytes() === 0) ws.emit("drain");
      },
      data: (ws, chunk) => {
        ws.#input().push(chunk);
      },
      // The peer will send nothing more; without its close frame the closure is abnormal.
      end: (ws) => ws.#connection.transportEnded(),
      socketClose: (ws) => {
        const connection = ws.#connection;
        connection.transportClosed();
        // Only what still waits needs telling: an Error (its stack trace) costs microseconds,
        // and every connection closes once. Sends after this see the CLOSED state.
        const sender = ws.#sender;
        if (sender !== null && !(sender.atRest && ws.#queue!.length === 0)) {
          sender.destroy(new Error("The WebSocket connection is closed"));
        }
        // Messages already received (maybe still inflating) are delivered before `close`.
        ws.#input().whenIdle(() => connection.drained());
      },
      writeClose: (ws, payload) => {
        if (ws.#sender === null && !ws.#maskByDefault) {
          // A server socket that has no sender (it never sent, or shed it) writes its close
          // frame itself: nothing but the end of the transport can follow a close frame, so a
          // connection on its way out makes no sender, queue and flush tick for it.
          const socket = ws.#socket!;
          if (!socket.destroyed && !socket.writableEnded) {
            socket.write(encodeFrame(Opcode.Close, payload));
          }
          return;
        }
        ws.#output().sendControl(Opcode.Close, payload, ws.#maskByDefault, undefined);
      },
      writePong: (ws, payload) => ws.#output().sendAutoPong(payload, ws.#maskByDefault),
      endTransport: (ws) => {
        const sender = ws.#sender;
        if (sender !== null) {
          sender.end();
          return;
        }
        const socket = ws.#socket!;
        if (!socket.destroyed && !socket.writableEnded) socket.end();
      },
      destroyTransport: (ws) => {
        const socket = ws.#socket!;
        // A socket terminated in its server's `connection` listener still owes the client the
        // 101 response, corked until the end of that turn (WebSocketServer): it goes first.
        if (socket.writableCorked > 0) socket.uncork();
        socket.destroy();
      },
      stopInput: (ws) => ws.#input().stop(),
      finishInput: (ws) => ws.#input().finishInput(),
      abandonHandshake: (ws) => ws.#abandonHandshake(),
      closed: (ws, code, reason, error) => {
        // A connection that never opened has its handshake failure logged instead.
        if (ws.#socket !== null) debug?.(`${ws.#role} closed: ${code} ${JSON.stringify(reason)}`);
        ws.#deflate?.close();
        if (error !== null) ws.#emitError(error);
        ws.#onClosed?.(ws);
        ws.#onClosed = null;
        ws.emit("close", code, reason === "" ? EMPTY_BUFFER : Buffer.from(reason));
      },
    };
  }

  /** The receiver (socket bytes to events), made when first needed. */
  #input(): MessageReceiver {
    this.#active = true;
    this.#receiver ??= new MessageReceiver(
      this.#role,
      this.#maxPayload,
      this.#limits.maxFragments,
      this.#deflate,
      this.#connection,
      this.#receive ?? undefined,
    );
    return this.#receiver;
  }

  /** The sender and its write queue, made when first needed. */
  #output(): MessageSender {
    this.#active = true;
    if (this.#sender === null) {
      this.#queue = new WriteQueue(this.#socket!, this.#connection);
      this.#sender = new MessageSender(this.#queue, this.#deflate, this.#generateMask);
    }
    return this.#sender;
  }

  /**
   * @internal The server calls it every few seconds for each open connection: one that stayed
   * quiet since the previous call drops its receiver, sender and write queue when nothing is
   * under way in them (they are made again at the next bytes in or out), so a connection that
   * talked once and went quiet costs what a silent one does.
   */
  _shedIdleState(): void {
    if (this.#active) {
      this.#active = false;
      return;
    }
    if (this.#readyState !== OPEN) return;
    if (this.#receiver?.atRest) this.#receiver = null;
    if (this.#sender?.atRest && this.#queue!.atRest) {
      this.#sender = null;
      this.#queue = null;
    }
  }

  // ---- incoming ----------------------------------------------------------------------------

  #deliverMessage(data: Buffer, isBinary: boolean): void {
    debug?.(`${this.#role} message in: ${debugPreview(isBinary ? data : data.toString())}`);
    if (!isBinary) {
      this.emit("message", data, false);
      return;
    }
    switch (this.#binaryType) {
      case "nodebuffer":
        this.emit("message", data, true);
        return;
      case "arraybuffer":
        this.emit("message", toArrayBuffer(data), true);
        return;
      case "blob":
        // Buffer's type allows a SharedArrayBuffer store, which BlobPart does not; socket data
        // never lives in one.
        this.emit("message", new Blob([data as Uint8Array as BlobPart]), true);
        return;
      default:
        this.emit("message", [data], true);
    }
  }

  /** `error` only reaches listeners that exist: a hostile peer must not crash the process. */
  #emitError(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  // ---- outgoing ----------------------------------------------------------------------------

  #sendControl(
    opcode: number,
    data: SendData | number | SendCallback | undefined,
    mask: boolean | SendCallback | undefined,
    callback: SendCallback | undefined,
  ): void {
    if (typeof data === "function") {
      callback = data;
      data = undefined;
      mask = undefined;
    } else if (typeof mask === "function") {
      callback = mask;
      mask = undefined;
    }
    if (this.#readyState === CONNECTING) throw notYetOpen();
    // A Blob's bytes can only be read later: it is sent once read, in call order (as in ws).
    const blob = typeof Blob !== "undefined" && data instanceof Blob ? data : null;
    const payload = blob === null ? toPayloadBytes(data) : null;
    const size = blob === null ? payload!.length : blob.size;
    if (size > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(`The data size must not be greater than ${MAX_CONTROL_PAYLOAD} bytes`);
    }
    if (this.#readyState !== OPEN) {
      this.#discard(size, callback);
      return;
    }
    const masked = mask ?? this.#maskByDefault;
    if (blob === null) this.#output().sendControl(opcode, payload!, masked, callback);
    else this.#output().sendControlBlob(opcode, blob, masked, callback);
  }

  #discard(size: number, callback: SendCallback | undefined): void {
    this.#discardedBytes += size;
    if (callback !== undefined) {
      const state = STATE_NAMES[this.#readyState];
      process.nextTick(
        callback,
        new Error(`WebSocket is not open: readyState ${this.#readyState} (${state})`),
      );
    }
  }

  #pendingBytes(): number {
    const socket = this.#socket;
    if (socket === null) return 0;
    const queue = this.#queue;
    if (queue === null) return socket.writableLength;
    return queue.queuedBytes + this.#sender!.backlogBytes + socket.writableLength;
  }

  /** Whether a data send must go through {@link refuse} (the common case costs one comparison). */
  #overLimit(): boolean {
    if (this.#droppingMessage) return true;
    const limit = this.#limits.maxBufferedAmount;
    return limit > 0 && this.#pendingBytes() > limit;
  }

  /**
   * A data send found more than `maxBufferedAmount` bytes waiting (or belongs to a message being
   * dropped): applies the backpressure policy. Returns true when the send must not be queued
   * (its callback is told), false when it goes ahead (a fragment of a message already started).
   */
  #refuse(fin: boolean, callback: SendCallback | undefined): boolean {
    const limits = this.#limits;
    if (limits.backpressure === "drop") {
      if (!this.#droppingMessage && this.#output().fragmenting) {
        // Dropping a fragment would leave a hole in a message the peer already started reading.
        return false;
      }
      this.#droppingMessage = !fin;
      this.#dropped++;
      if (callback !== undefined) {
        process.nextTick(
          callback,
          new Error(
            `Message dropped: more than maxBufferedAmount (${limits.maxBufferedAmount} bytes) waiting to be sent`,
          ),
        );
      }
      return true;
    }
    const error = new WebSocketError(
      `The peer does not read fast enough: more than maxBufferedAmount (${limits.maxBufferedAmount} bytes) waiting to be sent`,
      limits.backpressureCloseCode,
    );
    // What the peer was not reading is dropped now, so its memory is freed at once and the close
    // frame is the next thing the peer gets.
    this.#output();
    this.#queue!.discard(error);
    this.#connection.fail(error, limits.backpressureCloseCode, "send buffer full");
    if (callback !== undefined) process.nextTick(callback, error);
    return true;
  }

  // ---- browser listeners -------------------------------------------------------------------

  static {
    wasCleanOf = (ws) => ws.#wasClean;
  }

  /** The browser-style listeners' bookkeeping, made when first needed. */
  #listeners(): BrowserListeners {
    this.#browserListeners ??= new BrowserListeners(this, wasCleanOf);
    return this.#browserListeners;
  }

  #setAttribute(type: BrowserEventType, listener: unknown): void {
    // Clearing an attribute that was never set needs no bookkeeping.
    if (this.#browserListeners === null && !isBrowserListener(listener)) return;
    this.#listeners().setAttribute(type, listener);
  }
}

/**
 * The types ws declares on its default export, under the same names, so that code typed against
 * ws (`(data: WebSocket.RawData) => ...`, `WebSocket.ServerOptions`) compiles unchanged.
 */
export declare namespace WebSocket {
  /** ws's `WebSocket.RawData`: see {@link RawData}. */
  type RawData = import("./websocket.js").RawData;
  /** ws's `WebSocket.Data`: what `send` takes. */
  type Data = SendData;
  /** ws's `WebSocket.ClientOptions`: see {@link WebSocketOptions}. */
  type ClientOptions = WebSocketOptions;
  /** ws's `WebSocket.ServerOptions`: see {@link WebSocketServerOptions}. */
  type ServerOptions = WebSocketServerOptions;
  /** ws's `WebSocket.Server`: a {@link WebSocketServer}. */
  type Server = WebSocketServer;
  /** ws's `WebSocket.WebSocketServer`: a {@link WebSocketServer}. */
  type WebSocketServer = import("./server.js").WebSocketServer;
  /** ws's `WebSocket.WebSocket`: a WebSocket. */
  type WebSocket = import("./websocket.js").WebSocket;
}

Object.defineProperties(WebSocket.prototype, {
  CONNECTING: { value: CONNECTING, enumerable: true },
  OPEN: { value: OPEN, enumerable: true },
  CLOSING: { value: CLOSING, enumerable: true },
  CLOSED: { value: CLOSED, enumerable: true },
});

function notYetOpen(): DOMException {
  return new DOMException("WebSocket is not open: readyState 0 (CONNECTING)", "InvalidStateError");
}

/** WebIDL `[Clamp] unsigned short`: NaN is 0, out-of-range values clamp, halves round to even. */
function clampCode(code: number): number {
  const n = Number(code);
  if (Number.isNaN(n)) return 0;
  if (n <= 0) return 0;
  if (n >= 0xffff) return 0xffff;
  const floor = Math.floor(n);
  const fraction = n - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The Manager: one Engine.IO connection shared by the Sockets of every namespace on it, the
 * Socket.IO decoder of that connection, and reconnection with exponential backoff. Behaves like
 * socket.io-client v4's Manager (same options, events and event order).
 */
import {
  Decoder,
  encode,
  type OutgoingSocketPacket,
  type SocketPacket,
  SocketPacketType,
} from "../protocol/socketio/index.js";
import { Backoff } from "./backoff.js";
import { convertReceivedBinary, readBlobs } from "./binary.js";
import { debug } from "./debug.js";
import { listenTo } from "./emitter.js";
import { EngineClient, type EngineClientEventMap } from "./engine/engine-client.js";
import {
  DEFAULT_ENGINE_OPTIONS,
  type EngineClientOptions,
  type EngineTimers,
  type TransportName,
} from "./engine/options.js";
import { clientPlatform } from "./platform.js";
import { type DisconnectDescription, Socket, type SocketOptions, toError } from "./socket.js";
import { GLOBAL_TIMERS, type TimerHandle, unreferencedTimers } from "./timers.js";
import { TypedEmitter } from "./typed-emitter.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";
import { type LocationLike, type ParsedUrl, pageLocation, parseUrl } from "./url.js";

/** A query parameter value (numbers and booleans are sent as text). */
export type QueryValue = string | number | boolean;

/**
 * A transport class, as socket.io-client 4.8 accepts them in `transports` (`[Fetch, WebSocket]`):
 * duplexio's `Fetch`, `XHR`, `NodeXHR`, `WebSocket` and `NodeWebSocket` exports. Only its name
 * counts (`Class.prototype.name`): duplexio has one implementation per transport.
 */
export type TransportClass = abstract new (...args: never[]) => { readonly name: TransportName };

/**
 * Options of a Manager (and of `io()`, with the {@link SocketOptions}). Every Engine.IO client
 * option applies too (`path`, `transports`, `upgrade`, `extraHeaders`, `transportOptions`,
 * `withCredentials`, `requestTimeout`, `tryAllTransports`, the Node TLS options, `WebSocket`, ...).
 */
export interface ManagerOptions
  extends Partial<Omit<EngineClientOptions, "query" | "timeoutMs" | "transports">> {
  /**
   * Transports in order of preference, by name or by class (`[Fetch, WebSocket]`); the first
   * opens the session. Default `["polling", "websocket"]`.
   */
  transports?: (TransportName | TransportClass)[];
  /** A new Manager (and connection) even when one to the same server exists. Default false. */
  forceNew?: boolean;
  /** Set to false to get a new Manager, as `forceNew` does. Default true. */
  multiplex?: boolean;
  /** Query parameters of the Engine.IO requests (`"a=1&b=2"` or an object). */
  query?: Record<string, QueryValue> | string;
  /** Whether to reconnect after the connection is lost. Default true. */
  reconnection?: boolean;
  /** Attempts before giving up (`reconnect_failed`). Default Infinity. */
  reconnectionAttempts?: number;
  /** First delay between attempts, in milliseconds. Default 1000. */
  reconnectionDelay?: number;
  /** Largest delay between attempts, in milliseconds. Default 5000. */
  reconnectionDelayMax?: number;
  /** Randomised share of each delay, from 0 to 1. Default 0.5. */
  randomizationFactor?: number;
  /** Milliseconds to wait for the Engine.IO handshake; false for no limit. Default 20000. */
  timeout?: number | false;
  /** Whether to connect at once (otherwise on `socket.connect()`). Default true. */
  autoConnect?: boolean;
  /**
   * Whether the client's timers (reconnection, timeouts, heartbeat) let a Node process exit.
   * Default false.
   */
  autoUnref?: boolean;
  /** Server host name, when the Manager is created without a URL. */
  hostname?: string;
  /** Server port, when the Manager is created without a URL. */
  port?: string | number;
  /** Whether to use https/wss, when the Manager is created without a URL. */
  secure?: boolean;
  /** Timers and clock (for reconnection, timeouts and the engine). Default the global ones. */
  timers?: EngineTimers;
  /** Source of uniform numbers in [0, 1) for the reconnection jitter. Default `Math.random`. */
  random?: () => number;
}

/** Events a Manager emits. */
export interface ManagerReservedEvents {
  /** The Engine.IO connection is open. */
  open: () => void;
  /** The connection failed to open, or failed while open. */
  error: (err: Error) => void;
  /** The server's heartbeat ping arrived. */
  ping: () => void;
  /** A Socket.IO packet arrived (any namespace). */
  packet: (packet: SocketPacket) => void;
  /** The connection closed. */
  close: (reason: string, description?: DisconnectDescription) => void;
  /** Reconnection gave up after `reconnectionAttempts`. */
  reconnect_failed: () => void;
  /** A reconnection attempt starts (numbered from 1). */
  reconnect_attempt: (attempt: number) => void;
  /** A reconnection attempt failed. */
  reconnect_error: (err: Error) => void;
  /** Reconnected, after `attempt` attempts. */
  reconnect: (attempt: number) => void;
}

/** A packet as Sockets hand it to the Manager (socket.io-client's shape, with the namespace). */
export interface ClientPacket extends OutgoingSocketPacket {
  /** Per-packet flags: `compress` (accepted for compatibility; the engine decides compression). */
  options?: { compress: boolean };
}

/** Transport names from a `transports` list of names and classes (undefined: the engine's default). */
function transportNames(list: ManagerOptions["transports"]): TransportName[] | undefined {
  return list?.map((item) => (typeof item === "function" ? item.prototype.name : item));
}

function normalizeQuery(query: ManagerOptions["query"]): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  if (typeof query === "string") {
    for (const [name, value] of new URLSearchParams(query)) result[name] = value;
  } else if (typeof query === "object" && query !== null) {
    for (const name of Object.keys(query)) {
      const value = query[name];
      if (value !== undefined && value !== null) result[name] = String(value);
    }
  }
  return result;
}

/** Where a Manager without a URL connects: `hostname`/`port`/`secure`, else the page. */
function targetFromOptions(
  options: ManagerOptions,
  enginePath: string,
): ReturnType<typeof parseUrl> {
  if (options.hostname === undefined) return parseUrl(undefined, enginePath);
  const location: LocationLike | undefined = pageLocation();
  const secure = options.secure ?? location?.protocol === "https:";
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const port = options.port === undefined ? "" : `:${options.port}`;
  return parseUrl(`${secure ? "https" : "http"}://${host}${port}`, enginePath, location);
}

/**
 * One connection to a Socket.IO server, shared by the Sockets of its namespaces
 * (`manager.socket("/admin")`), reconnecting after losses.
 *
 * @example
 * const manager = new Manager("https://example.com", { reconnectionDelayMax: 10000 });
 * const admin = manager.socket("/admin", { auth: { token: "abc" } });
 */
export class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends TypedEmitter<Record<never, never>, ManagerReservedEvents> {
  /** The current Engine.IO connection (undefined before the first `open()`). */
  engine!: EngineClient;
  // `declare`d fields are set by the constructor: no separate field definitions in the bundle.
  /** The options given to the constructor (or to `io()`). */
  declare readonly opts: ManagerOptions;
  /** Whether Sockets connect as soon as they are created. */
  declare readonly _autoConnect: boolean;
  /** State of the Engine.IO connection. */
  _readyState: "opening" | "open" | "closed" = "closed";
  /** Whether a reconnection is scheduled or under way. */
  _reconnecting = false;

  readonly #target: ParsedUrl | null;
  readonly #targetFault: string | null;
  readonly #query: Record<string, string>;
  readonly #nsps = new Map<string, Socket<ListenEvents, EmitEvents>>();
  /** Undo functions of the current subscriptions and timers. */
  #subs: (() => void)[] = [];
  readonly #backoff: Backoff;
  readonly #timers: EngineTimers;
  /** The cookies servers set, kept across this Manager's reconnections (Node). */
  #cookies: EngineClientOptions["cookies"];
  readonly #decoder = new Decoder();
  /** A binary part arrived since the last complete packet: the next packet holds binary values. */
  #binaryPacket = false;
  #skipReconnect = false;
  #reconnection = true;
  #reconnectionAttempts = Infinity;
  #timeout: number | false = 20000;
  /** Packets waiting for Blobs to be read, or behind such a packet (kept in order). */
  #blobQueue: Promise<void> | null = null;
  #blobQueueLength = 0;

  /** @param uri the server URL (default: the page's origin); its path is ignored here. */
  constructor(uri?: string, opts?: ManagerOptions);
  constructor(opts: ManagerOptions);
  constructor(uri?: string | ManagerOptions, opts?: ManagerOptions) {
    super();
    let options: ManagerOptions;
    if (typeof uri === "object" && uri !== null) {
      options = uri;
      uri = undefined;
    } else {
      options = opts ?? {};
    }
    this.opts = options;
    const enginePath = options.path ?? DEFAULT_ENGINE_OPTIONS.path;
    const parsed =
      typeof uri === "string" ? parseUrl(uri, enginePath) : targetFromOptions(options, enginePath);
    this.#target = parsed.ok ? parsed.url : null;
    this.#targetFault = parsed.ok ? null : parsed.reason;
    // The URL's query wins over the option's, as in socket.io-client.
    this.#query = { ...normalizeQuery(options.query), ...(parsed.ok ? parsed.url.query : {}) };
    const timers = options.timers ?? GLOBAL_TIMERS;
    this.#timers = options.autoUnref === true ? unreferencedTimers(timers) : timers;
    this.reconnection(options.reconnection !== false);
    this.reconnectionAttempts(options.reconnectionAttempts || Infinity);
    // The backoff holds the delays and the jitter: the accessors below read and change them there.
    this.#backoff = new Backoff({
      min: options.reconnectionDelay || 1000,
      max: options.reconnectionDelayMax || 5000,
      jitter: options.randomizationFactor ?? 0.5,
      random: options.random,
    });
    this.timeout(options.timeout ?? 20000);
    this._autoConnect = options.autoConnect !== false;
    if (this._autoConnect) this.open();
  }

  /** Whether to reconnect after losses. */
  reconnection(): boolean;
  reconnection(value: boolean): this;
  reconnection(value?: boolean): this | boolean {
    if (value === undefined) return this.#reconnection;
    this.#reconnection = !!value;
    if (!value) this.#skipReconnect = true;
    return this;
  }

  /** Attempts before `reconnect_failed`. */
  reconnectionAttempts(): number;
  reconnectionAttempts(value: number): this;
  reconnectionAttempts(value?: number): this | number {
    if (value === undefined) return this.#reconnectionAttempts;
    this.#reconnectionAttempts = value;
    return this;
  }

  /** First delay between attempts, in milliseconds. */
  reconnectionDelay(): number;
  reconnectionDelay(value: number): this;
  reconnectionDelay(value?: number): this | number {
    if (value === undefined) return this.#backoff.min;
    this.#backoff.min = value;
    return this;
  }

  /** Randomised share of each delay. */
  randomizationFactor(): number;
  randomizationFactor(value: number): this;
  randomizationFactor(value?: number): this | number {
    if (value === undefined) return this.#backoff.jitter;
    this.#backoff.jitter = value;
    return this;
  }

  /** Largest delay between attempts, in milliseconds. */
  reconnectionDelayMax(): number;
  reconnectionDelayMax(value: number): this;
  reconnectionDelayMax(value?: number): this | number {
    if (value === undefined) return this.#backoff.max;
    this.#backoff.max = value;
    return this;
  }

  /** Handshake timeout in milliseconds (false: none). */
  timeout(): number | false;
  timeout(value: number | false): this;
  timeout(value?: number | false): this | number | false {
    if (value === undefined) return this.#timeout;
    this.#timeout = value;
    return this;
  }

  /**
   * Opens the connection (does nothing when it is open or opening). `callback` is called once:
   * without an argument when the connection opens, with the error when it fails (and then no
   * reconnection is started on its behalf).
   */
  open(callback?: (err?: Error) => void): this {
    if (this._readyState !== "closed") return this;
    this._readyState = "opening";
    this.#skipReconnect = false;
    const onError = (err: Error): void => {
      this.#cleanup();
      // The engine closes itself after its `error` (its `close` is no longer listened to).
      this._readyState = "closed";
      this.emitReserved("error", err);
      if (callback !== undefined) callback(err);
      else this.#maybeReconnectOnOpen();
    };
    const engine = this.#createEngine(onError);
    if (engine === null) return this;
    const onOpen = (): void => {
      this.#onopen();
      callback?.();
    };
    this.#subs.push(
      listenTo<EngineClientEventMap>(engine, {
        open: onOpen,
        error: onError,
        // An engine may also close before opening without an `error` (a "parse error" from a
        // server that is not Engine.IO): that is a failed attempt too, or the Manager would wait
        // forever.
        close: (reason, description) => {
          const detail = description instanceof Error ? ` (${description.message})` : "";
          onError(new Error(`connection closed while opening: ${reason}${detail}`));
        },
      }),
    );
    return this;
  }

  /** Alias of {@link open}. */
  connect(callback?: (err?: Error) => void): this {
    return this.open(callback);
  }

  /**
   * The Socket of namespace `nsp` on this connection, created on first use (and connected again,
   * with `autoConnect`, when it was disconnected).
   */
  socket(nsp: string, opts?: SocketOptions): Socket<ListenEvents, EmitEvents> {
    let socket = this.#nsps.get(nsp);
    if (socket === undefined) {
      socket = new Socket<ListenEvents, EmitEvents>(this, nsp, opts);
      this.#nsps.set(nsp, socket);
    } else if (this._autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  /** Whether a Socket of namespace `nsp` was created on this Manager. */
  _hasNamespace(nsp: string): boolean {
    return this.#nsps.has(nsp);
  }

  /** Called by a Socket that disconnected: closes the connection when no Socket is active. */
  _destroy(_socket: Socket<ListenEvents, EmitEvents>): void {
    for (const socket of this.#nsps.values()) {
      if (socket.active) return;
    }
    this._close();
  }

  /**
   * Sends a packet. Returns why it cannot be encoded, or null (sent, queued behind packets holding
   * Blobs, or dropped because the connection is not open). When the packet waits for Blobs to be
   * read, an encoding failure is reported to `onLateFailure` instead.
   */
  _packet(packet: ClientPacket, onLateFailure?: (reason: string) => void): string | null {
    const reading =
      (packet.type === SocketPacketType.Event || packet.type === SocketPacketType.Ack) &&
      Array.isArray(packet.data)
        ? readBlobs(packet.data)
        : null;
    if (this.#blobQueueLength === 0 && reading === null) return this.#write(packet, this.engine);
    // Blobs are read asynchronously; packets queue behind them so the order is kept. (Settled
    // into a value at once: a failed read is this packet's failure, never an unhandled rejection.)
    const ready =
      reading?.then(
        (data): ClientPacket => ({ ...packet, data }),
        (error: unknown) => toError(error),
      ) ?? packet;
    const engine = this.engine;
    this.#blobQueueLength++;
    const previous = this.#blobQueue ?? Promise.resolve();
    this.#blobQueue = previous.then(async () => {
      const settled = await ready;
      if (--this.#blobQueueLength === 0) this.#blobQueue = null;
      if (settled instanceof Error) {
        onLateFailure?.(`a Blob could not be read: ${settled.message}`);
        return;
      }
      // A packet meant for a connection that has closed since is dropped, as it would have been.
      const fault = this.engine === engine ? this.#write(settled, engine) : null;
      if (fault !== null) onLateFailure?.(fault);
    });
    return null;
  }

  /**
   * Whether a packet would be written at once rather than queued (volatile packets are dropped
   * otherwise): the connection is open, not switching transports, and nothing waits before it.
   */
  _isWritable(): boolean {
    const engine = this.engine;
    return (
      this._readyState === "open" &&
      engine !== undefined &&
      engine.readyState === "open" &&
      !engine.upgrading &&
      engine.bufferedAmount === 0
    );
  }

  /**
   * Whether the heartbeat deadline passed unnoticed (timers throttled in a background tab): the
   * connection is then closing, and packets are better kept for the next one.
   */
  _hasPingExpired(): boolean {
    return this.engine?.hasPingExpired() ?? false;
  }

  /** Starts a timer with the Manager's timers (unreferenced with `autoUnref`). */
  setTimeoutFn(callback: () => void, ms: number): TimerHandle {
    return this.#timers.setTimeout(callback, ms);
  }

  /** Stops a timer started by {@link setTimeoutFn}. */
  clearTimeoutFn(handle: TimerHandle): void {
    this.#timers.clearTimeout(handle);
  }

  /** Closes the connection for good (no reconnection): "forced close". */
  _close(): void {
    this.#skipReconnect = true;
    this._reconnecting = false;
    this.#onclose("forced close");
  }

  /** Alias of {@link _close}. */
  disconnect(): void {
    this._close();
  }

  #createEngine(onError: (err: Error) => void): EngineClient | null {
    const target = this.#target;
    if (target === null) {
      // Reported like a failed connection, but after the caller could attach listeners.
      const fault = new Error(this.#targetFault ?? "invalid URL");
      this.#subs.push(this.#deferred(() => onError(fault)));
      return null;
    }
    const options = this.opts;
    const platform = clientPlatform();
    // The engine fills in its defaults for what is left undefined (upgrade, withCredentials, ...).
    const engineOptions: Partial<EngineClientOptions> = {
      ...options,
      path: options.path ?? DEFAULT_ENGINE_OPTIONS.path,
      query: this.#query,
      transports: transportNames(options.transports),
      timers: this.#timers,
    };
    if (this.#timeout !== false) engineOptions.timeoutMs = this.#timeout;
    if (options.fetch === undefined && options.scopedFetch === undefined && platform.scopedFetch) {
      engineOptions.scopedFetch = platform.scopedFetch;
      // The user's `cookies` (spread above) win over the Manager's own jar.
      engineOptions.cookies ??= this.#cookies ??= platform.cookieJar?.();
    }
    const WebSocketImpl = options.WebSocket ?? platform.WebSocket;
    if (WebSocketImpl !== undefined) engineOptions.WebSocket = WebSocketImpl;
    let engine: EngineClient;
    try {
      engine = new EngineClient(target.origin, engineOptions);
    } catch (error) {
      const fault = toError(error);
      this.#subs.push(this.#deferred(() => onError(fault)));
      return null;
    }
    this.engine = engine;
    return engine;
  }

  /** Runs `callback` on a later turn; returns how to cancel it. */
  #deferred(callback: () => void): () => void {
    const handle = this.setTimeoutFn(callback, 0);
    return () => this.clearTimeoutFn(handle);
  }

  #maybeReconnectOnOpen(): void {
    // Only the first failure starts a reconnection; later ones are the reconnection's own.
    if (!this._reconnecting && this.#reconnection && this.#backoff.attempts === 0) {
      this.#reconnect();
    }
  }

  #onopen(): void {
    this.#cleanup();
    this._readyState = "open";
    debug?.("open");
    this.emitReserved("open");
    this.#subs.push(
      listenTo<EngineClientEventMap>(this.engine, {
        ping: () => this.emitReserved("ping"),
        message: (data) => this.#ondata(data),
        error: (err) => this.emitReserved("error", err),
        close: (reason, description) =>
          this.#onclose(reason, description as DisconnectDescription | undefined),
      }),
    );
  }

  #ondata(data: string | ArrayBuffer): void {
    if (typeof data !== "string") this.#binaryPacket = true;
    const result = this.#decoder.add(data);
    if (!result.ok) {
      this.#binaryPacket = false;
      this.#onclose("parse error", new Error(result.reason));
      return;
    }
    const packet = result.packet;
    if (packet === null) return;
    if (this.#binaryPacket) {
      this.#binaryPacket = false;
      if (packet.type === SocketPacketType.Event || packet.type === SocketPacketType.Ack) {
        convertReceivedBinary(packet.data, clientPlatform().convertBinary);
      }
    }
    this.emitReserved("packet", packet);
  }

  #cleanup(): void {
    for (const undo of this.#subs) undo();
    this.#subs = [];
    this.#decoder.reset();
    this.#binaryPacket = false;
  }

  #onclose(reason: string, description?: DisconnectDescription): void {
    this.#cleanup();
    this.engine?.close();
    this.#backoff.reset();
    this._readyState = "closed";
    debug?.(`close: ${reason}`);
    this.emitReserved("close", reason, description);
    if (this.#reconnection && !this.#skipReconnect) this.#reconnect();
  }

  #reconnect(): void {
    if (this._reconnecting || this.#skipReconnect) return;
    if (this.#backoff.attempts >= this.#reconnectionAttempts) {
      this.#backoff.reset();
      this._reconnecting = false;
      this.emitReserved("reconnect_failed");
      return;
    }
    const delay = this.#backoff.duration();
    this._reconnecting = true;
    const handle = this.setTimeoutFn(() => {
      if (this.#skipReconnect) return;
      debug?.(`reconnect attempt ${this.#backoff.attempts}`);
      this.emitReserved("reconnect_attempt", this.#backoff.attempts);
      // A listener may have closed the Manager.
      if (this.#skipReconnect) return;
      this.open((err) => {
        if (err !== undefined) {
          this._reconnecting = false;
          this.#reconnect();
          this.emitReserved("reconnect_error", err);
        } else {
          this.#onreconnect();
        }
      });
    }, delay);
    this.#subs.push(() => this.clearTimeoutFn(handle));
  }

  #onreconnect(): void {
    const attempt = this.#backoff.attempts;
    this._reconnecting = false;
    this.#backoff.reset();
    this.emitReserved("reconnect", attempt);
  }

  #write(packet: ClientPacket, engine: EngineClient | undefined): string | null {
    const encoded = encode(packet);
    if (!encoded.ok) return encoded.reason;
    if (engine === undefined || engine.readyState === "closing" || engine.readyState === "closed") {
      return null;
    }
    for (const part of encoded.parts) engine.send(part);
    return null;
  }
}

/**
 * The Engine.IO v4 client: handshake over polling or WebSocket, upgrade from polling to
 * WebSocket, heartbeat watch, and an ordered, bounded send buffer. Runs in browsers and Node.
 * @module
 */

import { toArrayBuffer } from "../../protocol/array-buffer.js";
import {
  type EngineHandshake,
  type EnginePacket,
  EnginePacketType,
  isBinaryData,
  parseHandshake,
  toUint8Array,
} from "../../protocol/engine/index.js";
import { Emitter } from "../emitter.js";
import { parseUrl } from "../url.js";
import { connectionOptions, websocketOptions } from "./connection-options.js";
import {
  DEFAULT_ENGINE_OPTIONS,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  type EngineClientOptions,
  type EngineTimers,
  EngineUrls,
  type FetchLike,
  GLOBAL_TIMERS,
  type PerTransportOptions,
  type TimerHandle,
  type TransportName,
} from "./options.js";
import { PollingTransport } from "./polling.js";
import { type SendBatch, SendBuffer } from "./send-buffer.js";
import type { Transport, TransportCloseDetails, TransportEvents } from "./transport.js";
import type { WebSocketConstructorLike } from "./websocket-like.js";
import { WebSocketTransport } from "./websocket-transport.js";

/** Why a connection closed (socket.io-client's engine reasons). */
export type EngineCloseReason =
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "forced close"
  | "parse error";

/** Events of {@link EngineClient}. */
export interface EngineClientEventMap {
  /** The handshake completed: the session is open. */
  open: [];
  /** The handshake data, just before `open`. */
  handshake: [handshake: EngineHandshake];
  /** A message: text, or binary as an ArrayBuffer. */
  message: [data: string | ArrayBuffer];
  /** Every packet received, before it is acted on. */
  packet: [packet: EnginePacket];
  /** The server pinged (the pong is already queued). */
  ping: [];
  /** A probe succeeded: the client is switching to this transport. */
  upgrading: [transport: EngineTransportInfo];
  /** The client now uses this transport. */
  upgrade: [transport: EngineTransportInfo];
  /** An upgrade attempt failed; the client keeps its transport. */
  upgradeError: [error: Error];
  /** The send buffer is empty: everything sent has been written. */
  drain: [];
  /** A transport failure or handshake timeout (a `close` follows). */
  error: [error: Error];
  /** The connection closed; `description` holds the error or the transport's details. */
  close: [reason: EngineCloseReason, description?: unknown];
}

/**
 * What the client shows of a transport (`engine.transport.name`, and the argument of `upgrading`
 * and `upgrade`, as in engine.io-client).
 */
export interface EngineTransportInfo {
  readonly name: TransportName;
  /** Whether it can take packets right now. */
  readonly writable: boolean;
}

/** The state of an {@link EngineClient}. */
export type EngineReadyState = "opening" | "open" | "closing" | "closed";

/**
 * Whether a WebSocket connection worked before in this realm, for `rememberUpgrade` (a realm-wide
 * memory, as in engine.io-client).
 */
let priorWebsocketSuccess = false;

/** The closing steps `close()` waits for before closing. */
type PendingClose = "none" | "drain" | "upgrade";

/** An upgrade attempt in progress. */
interface Probe {
  transport: Transport;
  name: TransportName;
  /** The server answered the probe; the old transport is being paused. */
  answered: boolean;
  failed: boolean;
}

/**
 * An Engine.IO v4 connection. Connects on construction.
 *
 * Messages passed to `send` before the handshake, during an upgrade, or while a polling request
 * is in flight are buffered and written in order once the transport can take them (`drain` when
 * the buffer is empty). The buffer is bounded by `maxBufferedAmount` (64 MiB by default): a `send`
 * that would go past it fails the connection with `error` ("send buffer full") and `close`
 * ("transport error"); a single message larger than the bound is still accepted into an empty
 * buffer.
 *
 * Close reasons: "forced close" (`close()`), "transport close" (the server closed), "transport
 * error" (network failure, HTTP error, WebSocket error; `error` is emitted first), "ping timeout"
 * (no ping within pingInterval + pingTimeout), "parse error" (something that does not decode, or
 * a bad handshake).
 */
export class EngineClient extends Emitter<EngineClientEventMap> {
  /** Current state. */
  readyState: EngineReadyState = "opening";
  #id: string | null = null;
  #transport: Transport | null = null;
  #probe: Probe | null = null;
  #upgrading = false;
  #handshake: EngineHandshake | null = null;
  #upgrades: TransportName[] = [];
  /**
   * The transports still worth trying, in order of preference: `transports`, less those that
   * failed before the handshake with `tryAllTransports` (as engine.io-client, no upgrade is
   * attempted to those afterwards).
   */
  #candidates: TransportName[] = [];
  #maxPayload: number | undefined;
  /** The batch the transport is writing; its callbacks run on `drain`. */
  #inFlight: SendBatch | null = null;
  #pendingClose: PendingClose = "none";
  #pingTimer: TimerHandle | undefined;
  #pingDeadline = 0;
  #openTimer: TimerHandle | undefined;
  #unloadCleanup: (() => void) | null = null;
  readonly #buffer: SendBuffer;
  readonly #timers: EngineTimers;
  readonly #options: EngineClientOptions;
  readonly #urls: EngineUrls | null;
  readonly #WebSocket: WebSocketConstructorLike | undefined;
  readonly #fetch: FetchLike | undefined;

  /**
   * @param uri the server, e.g. "https://example.com" (scheme, host, port and query are used; the
   *   path is the Socket.IO namespace and is ignored here, the Engine.IO path is `options.path`)
   */
  constructor(uri: string, options: Partial<EngineClientOptions> = {}) {
    super();
    const resolved: EngineClientOptions = {
      ...DEFAULT_ENGINE_OPTIONS,
      ...withoutUndefined(options),
    };
    this.#options = resolved;
    this.#timers = resolved.timers ?? GLOBAL_TIMERS;
    this.#buffer = new SendBuffer(resolved.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT);
    this.#WebSocket =
      resolved.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
    this.#fetch =
      resolved.fetch ??
      (typeof globalThis.fetch === "function"
        ? (url, init) => globalThis.fetch(url, init)
        : undefined);
    // The io() URL rules (a relative URI against the page, a bare host gets a scheme); only the
    // scheme, host, port and query count here: the path is a namespace's, not Engine.IO's.
    const parsed = parseUrl(uri, resolved.path);
    const target = parsed.ok ? parsed.url : null;
    this.#urls =
      target === null
        ? null
        : new EngineUrls(
            { secure: target.protocol.endsWith("s"), host: target.host },
            resolved.path,
            resolved.addTrailingSlash,
            { ...target.query, ...resolved.query },
          );
    this.#open(target === null ? null : target.host);
  }

  /** The session id, once the handshake is done (null before and after the connection). */
  get id(): string | null {
    return this.#id;
  }

  /**
   * The transport in use (`transport.name` is "polling" or "websocket"), or null before one is
   * created: socket.io-client's documented way to see the transport, `socket.io.engine.transport.name`.
   */
  get transport(): EngineTransportInfo | null {
    return this.#transport;
  }

  /** The transport in use, or null before one is created. */
  get transportName(): TransportName | null {
    return this.#transport?.name ?? null;
  }

  /** The handshake data of the open session, or null. */
  get handshake(): EngineHandshake | null {
    return this.#handshake;
  }

  /** Whether an upgrade is switching transports (sends are buffered meanwhile). */
  get upgrading(): boolean {
    return this.#upgrading;
  }

  /** Summed size of the buffered messages (see `maxBufferedAmount`). */
  get bufferedAmount(): number {
    return this.#buffer.amount;
  }

  /**
   * Sends a message. `callback` runs once the message has been written to the transport. Ignored
   * once the client is closing or closed.
   */
  send(data: string | Uint8Array | ArrayBuffer | ArrayBufferView, callback?: () => void): void {
    // Plain JavaScript callers may pass anything: what is neither text nor binary is sent as its
    // string form (as engine.io-client does), and a callback that is not a function is ignored.
    this.#sendPacket(
      {
        type: EnginePacketType.Message,
        data:
          typeof data === "string" ? data : isBinaryData(data) ? toUint8Array(data) : String(data),
      },
      typeof callback === "function" ? callback : undefined,
    );
  }

  /** Alias of {@link send}. */
  write(data: string | Uint8Array | ArrayBuffer | ArrayBufferView, callback?: () => void): void {
    this.send(data, callback);
  }

  /**
   * Closes the connection ("forced close"), after writing what is buffered and letting an upgrade
   * in progress finish.
   */
  close(): void {
    if (this.readyState !== "opening" && this.readyState !== "open") return;
    this.readyState = "closing";
    if (this.#buffer.length > 0 || this.#inFlight !== null) {
      this.#pendingClose = "drain";
    } else if (this.#upgrading) {
      this.#pendingClose = "upgrade";
    } else {
      this.#onClose("forced close");
    }
  }

  /**
   * Whether the heartbeat deadline has passed without the timer having fired yet (browsers
   * throttle timers in background tabs). When it has, the client closes with "ping timeout" in a
   * microtask; callers can keep a message for the next connection instead of writing it into a
   * dead one.
   */
  hasPingExpired(): boolean {
    if (this.readyState !== "open" || this.#pingDeadline === 0) return false;
    if (this.#timers.now() <= this.#pingDeadline) return false;
    this.#pingDeadline = 0;
    queueMicrotask(() => this.#onClose("ping timeout"));
    return true;
  }

  /** Re-reads the state (listeners run between checks; TypeScript would keep a stale narrowing). */
  #isClosed(): boolean {
    return this.readyState === "closed";
  }

  // ---- opening -------------------------------------------------------------------------------

  #open(hostname: string | null): void {
    if (this.#urls === null) {
      this.#failSoon(new Error("invalid URI"));
      return;
    }
    const { transports, rememberUpgrade } = this.#options;
    // Unknown names (socket.io-client's "webtransport") are skipped, as unavailable transports.
    this.#candidates = transports.filter(
      (t, i) => (t === "polling" || t === "websocket") && transports.indexOf(t) === i,
    );
    let name: TransportName | undefined;
    if (rememberUpgrade && priorWebsocketSuccess && this.#candidates.includes("websocket")) {
      name = "websocket";
    } else {
      name = this.#candidates[0];
    }
    if (name === undefined) {
      this.#failSoon(new Error("No transports available"));
      return;
    }
    const transport = this.#createTransport(name);
    if (transport === null) {
      this.#failSoon(new Error(`${name} transport unavailable`));
      return;
    }
    this.#transport = transport;
    const timeoutMs = this.#options.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.#openTimer = this.#timers.setTimeout(() => {
        this.#openTimer = undefined;
        if (this.readyState === "opening" || this.#pendingCloseBeforeOpen()) {
          this.#onError(new Error("timeout"));
        }
      }, timeoutMs);
    }
    this.#listenToPage(hostname);
    transport.open();
  }

  /** `close()` was called before the handshake and waits for it. */
  #pendingCloseBeforeOpen(): boolean {
    return this.readyState === "closing" && this.#handshake === null;
  }

  /** Reports a failure found during construction once the caller could attach listeners. */
  #failSoon(error: Error): void {
    queueMicrotask(() => this.#onError(error));
  }

  /** The options of transport `name`: the top-level ones with its `transportOptions` on top. */
  #settingsFor(name: TransportName): EngineClientOptions & PerTransportOptions {
    const overrides = this.#options.transportOptions?.[name];
    return overrides === undefined
      ? this.#options
      : { ...this.#options, ...withoutUndefined(overrides) };
  }

  #createTransport(name: TransportName): Transport | null {
    const urls = this.#urls!;
    let transport: Transport | undefined;
    const handlers = this.#eventsFor(() => transport!);
    const settings = this.#settingsFor(name);
    const { extraHeaders, timestampRequests } = settings;
    const stampParam = settings.timestampParam ?? "t";
    const connection = connectionOptions(settings);
    if (name === "polling") {
      const scope = settings.scopedFetch?.(connection ?? {}, settings.cookies);
      const fetch = scope?.fetch ?? this.#fetch;
      if (fetch === undefined) return null;
      // Polling URLs always carry the cache buster unless told not to (engine.io-client's rule).
      const stamp = timestampRequests === false ? null : stampParam;
      transport = new PollingTransport(
        {
          url: () => urls.polling(this.#id, stamp),
          endpoint: urls.endpoint(false),
          fetch,
          release: scope === undefined ? undefined : () => scope.close(),
          extraHeaders,
          withCredentials: settings.withCredentials,
          requestTimeout: settings.requestTimeout,
          timers: this.#timers,
        },
        handlers,
      );
    } else {
      const WebSocket = this.#WebSocket;
      if (WebSocket === undefined) return null;
      transport = new WebSocketTransport(
        {
          url: urls.websocket(this.#id, timestampRequests === true ? stampParam : null),
          endpoint: urls.endpoint(true),
          WebSocket,
          protocols: settings.protocols,
          options: websocketOptions(settings, connection),
        },
        handlers,
      );
    }
    return transport;
  }

  /**
   * Routes a transport's events by its role at the time: the transport in use, the upgrade probe
   * (which becomes the transport in use when the upgrade completes), or neither (an old or failed
   * transport, whose late events are ignored).
   */
  #eventsFor(transport: () => Transport): TransportEvents {
    const probe = (): Probe | null => {
      const current = this.#probe;
      return current !== null && current.transport === transport() && !current.failed
        ? current
        : null;
    };
    const isMain = () => transport() === this.#transport && this.readyState !== "closed";
    return {
      open: () => {
        if (probe() !== null) transport().send([{ type: EnginePacketType.Ping, data: "probe" }]);
      },
      packet: (packet) => {
        if (isMain()) {
          this.#onPacket(packet);
          return;
        }
        const current = probe();
        if (current === null || current.answered) return;
        if (packet.type === EnginePacketType.Pong && packet.data === "probe") {
          this.#onProbeAnswered(current);
        } else {
          this.#failProbe(current, "probe error");
        }
      },
      drain: () => {
        if (isMain()) this.#onDrain();
      },
      error: (error) => {
        if (isMain()) {
          if (!this.#tryNextTransport()) this.#onError(error);
          return;
        }
        const current = probe();
        if (current !== null) this.#failProbe(current, `probe error: ${error.message}`);
      },
      decodeError: (reason) => {
        if (isMain()) {
          this.#onClose("parse error", new Error(reason));
          return;
        }
        const current = probe();
        if (current !== null) this.#failProbe(current, `probe error: ${reason}`);
      },
      close: (details) => {
        if (isMain()) {
          this.#onClose("transport close", details);
          return;
        }
        const current = probe();
        if (current !== null) this.#failProbe(current, "probe error: transport closed");
      },
    };
  }

  // ---- receiving -----------------------------------------------------------------------------

  #onPacket(packet: EnginePacket): void {
    this.emit("packet", packet);
    if (this.readyState === "closed") return;
    switch (packet.type) {
      case EnginePacketType.Open:
        if (this.#handshake === null) this.#onHandshake(packet.data ?? "");
        return;
      case EnginePacketType.Noop:
        return;
    }
    if (this.#handshake === null) {
      this.#onClose("parse error", new Error("expected the open packet first"));
      return;
    }
    switch (packet.type) {
      case EnginePacketType.Message: {
        const data = packet.data ?? "";
        this.emit("message", typeof data === "string" ? data : toArrayBuffer(data));
        return;
      }
      case EnginePacketType.Ping:
        this.#resetHeartbeat();
        this.#sendPacket({ type: EnginePacketType.Pong });
        this.emit("ping");
        return;
      default:
        // pong, upgrade, close (handled by the transport): nothing for a client to do.
        return;
    }
  }

  #onHandshake(text: string): void {
    const parsed = parseHandshake(text);
    if (!parsed.ok) {
      this.#onClose("parse error", new Error(parsed.reason));
      return;
    }
    const handshake = parsed.handshake;
    this.#handshake = handshake;
    this.#id = handshake.sid;
    this.#maxPayload = handshake.maxPayload;
    this.#upgrades = handshake.upgrades.filter(
      (name): name is TransportName =>
        name === "websocket" && this.#candidates.includes(name) && this.#WebSocket !== undefined,
    );
    if (this.#openTimer !== undefined) {
      this.#timers.clearTimeout(this.#openTimer);
      this.#openTimer = undefined;
    }
    this.emit("handshake", handshake);
    if (this.readyState === "closed") return;
    if (this.readyState === "opening") this.readyState = "open";
    priorWebsocketSuccess = this.#transport!.name === "websocket";
    this.#resetHeartbeat();
    this.emit("open");
    this.#flush();
    if (
      this.readyState === "open" &&
      this.#options.upgrade &&
      this.#transport!.name === "polling"
    ) {
      for (const name of this.#upgrades) this.#startProbe(name);
    }
  }

  // ---- heartbeat -----------------------------------------------------------------------------

  /** (Re)arms the watch: the next ping must come within pingInterval + pingTimeout. */
  #resetHeartbeat(): void {
    const handshake = this.#handshake;
    if (handshake === null) return;
    if (this.#pingTimer !== undefined) this.#timers.clearTimeout(this.#pingTimer);
    const delay = handshake.pingInterval + handshake.pingTimeout;
    this.#pingDeadline = this.#timers.now() + delay;
    this.#pingTimer = this.#timers.setTimeout(() => {
      this.#pingTimer = undefined;
      this.#onClose("ping timeout");
    }, delay);
  }

  // ---- sending -------------------------------------------------------------------------------

  #sendPacket(packet: EnginePacket, callback?: () => void): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const transport = this.#transport;
    // Fast path: nothing queued and a WebSocket ready: straight to the socket, no queueing.
    if (
      transport instanceof WebSocketTransport &&
      this.#buffer.length === 0 &&
      this.#inFlight === null &&
      !this.#upgrading &&
      this.readyState === "open"
    ) {
      if (!transport.sendPacket(packet)) return;
      callback?.();
      this.emit("drain");
      return;
    }
    if (!this.#buffer.push(packet, callback)) {
      this.#onError(
        new Error(
          `send buffer full (${this.#buffer.amount} buffered, bound ${this.#options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT})`,
        ),
      );
      return;
    }
    this.#flush();
  }

  /** Hands buffered packets to the transport when it can take them. */
  #flush(): void {
    const transport = this.#transport;
    if (
      this.readyState === "closed" ||
      transport === null ||
      this.#handshake === null ||
      this.#upgrading ||
      this.#inFlight !== null ||
      !transport.writable ||
      this.#buffer.length === 0
    ) {
      return;
    }
    const batch = this.#buffer.take(transport.name === "polling" ? this.#maxPayload : undefined);
    if (transport.name === "polling") {
      this.#inFlight = batch;
      transport.send(batch.packets);
      return;
    }
    // A WebSocket takes the packets synchronously: the batch is written.
    transport.send(batch.packets);
    if (this.#transport !== transport || this.#isClosed()) return;
    this.#onWritten(batch);
  }

  /** The polling transport finished writing the batch in flight. */
  #onDrain(): void {
    const batch = this.#inFlight;
    this.#inFlight = null;
    if (batch !== null) this.#onWritten(batch);
  }

  #onWritten(batch: SendBatch): void {
    const callbacks = batch.callbacks;
    if (callbacks !== null) {
      for (let i = 0; i < callbacks.length; i++) {
        callbacks[i]?.();
        if (this.readyState === "closed") return;
      }
    }
    if (this.#buffer.length > 0 || this.#inFlight !== null) {
      this.#flush();
      return;
    }
    this.emit("drain");
    if (this.#pendingClose === "drain" && this.#buffer.length === 0 && this.#inFlight === null) {
      this.#finishPendingClose();
    }
  }

  #finishPendingClose(): void {
    if (this.readyState !== "closing") return;
    if (this.#upgrading) {
      this.#pendingClose = "upgrade";
      return;
    }
    this.#pendingClose = "none";
    this.#onClose("forced close");
  }

  // ---- upgrade -------------------------------------------------------------------------------

  #startProbe(name: TransportName): void {
    if (this.#probe !== null) return;
    priorWebsocketSuccess = false;
    const transport = this.#createTransport(name);
    if (transport === null) return;
    const probe: Probe = { transport, name, answered: false, failed: false };
    this.#probe = probe;
    transport.open();
  }

  #onProbeAnswered(probe: Probe): void {
    probe.answered = true;
    this.#upgrading = true;
    this.emit("upgrading", probe.transport);
    if (this.#probe !== probe || probe.failed || this.readyState === "closed") return;
    priorWebsocketSuccess = probe.name === "websocket";
    // Let the old transport's requests in flight end (the server answers a pending GET with a
    // noop during an upgrade), so nothing it carries is lost or overtaken.
    this.#transport!.pause(() => {
      if (this.#probe !== probe || probe.failed || this.readyState === "closed") return;
      const old = this.#transport!;
      this.#probe = null;
      this.#transport = probe.transport;
      old.discard();
      // From here on the probe transport's events are routed as the main transport's.
      probe.transport.send([{ type: EnginePacketType.Upgrade }]);
      this.#upgrading = false;
      this.emit("upgrade", probe.transport);
      if (this.#isClosed()) return;
      this.#flush();
      if (this.#pendingClose === "upgrade") this.#finishPendingClose();
      else if (this.#pendingClose === "drain" && this.#buffer.length === 0 && !this.#inFlight) {
        this.#finishPendingClose();
      }
    });
  }

  #failProbe(probe: Probe, message: string): void {
    probe.failed = true;
    this.#probe = null;
    probe.transport.close();
    if (probe.answered) {
      // The old transport may be pausing or paused: it carries on.
      this.#upgrading = false;
      this.#transport?.resume();
    }
    priorWebsocketSuccess = false;
    const error = new Error(message) as Error & { transport?: TransportName };
    error.transport = probe.name;
    this.emit("upgradeError", error);
    if (this.readyState === "closed") return;
    this.#flush();
    if (this.#pendingClose === "upgrade") this.#finishPendingClose();
  }

  /**
   * With `tryAllTransports`, a transport that failed before the handshake gives way to the next
   * candidate (engine.io-client's rule: only while opening, no `error` for the failed one). The
   * handshake timeout keeps running: it bounds all the attempts together.
   */
  #tryNextTransport(): boolean {
    const failed = this.#transport;
    if (
      !this.#options.tryAllTransports ||
      this.readyState !== "opening" ||
      this.#handshake !== null ||
      failed === null
    ) {
      return false;
    }
    this.#candidates = this.#candidates.filter((name) => name !== failed.name);
    const name = this.#candidates[0];
    if (name === undefined) return false;
    const next = this.#createTransport(name);
    if (next === null) return false;
    failed.discard();
    this.#transport = next;
    next.open();
    return true;
  }

  // ---- closing -------------------------------------------------------------------------------

  #onError(error: Error): void {
    if (this.readyState === "closed") return;
    priorWebsocketSuccess = false;
    this.emit("error", error);
    this.#onClose("transport error", error);
  }

  #onClose(reason: EngineCloseReason, description?: Error | TransportCloseDetails): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    if (this.#pingTimer !== undefined) this.#timers.clearTimeout(this.#pingTimer);
    if (this.#openTimer !== undefined) this.#timers.clearTimeout(this.#openTimer);
    this.#pingTimer = undefined;
    this.#openTimer = undefined;
    this.#pingDeadline = 0;
    this.#pendingClose = "none";
    this.#upgrading = false;
    const probe = this.#probe;
    this.#probe = null;
    if (probe !== null) {
      probe.failed = true;
      probe.transport.close();
    }
    // Close the transport unless it is what closed (it then already released itself).
    this.#transport?.close();
    this.#unloadCleanup?.();
    this.#unloadCleanup = null;
    this.#id = null;
    this.emit("close", reason, description);
    // After `close` so that its listeners can still look at what was left unsent.
    this.#buffer.clear();
    this.#inFlight = null;
  }

  // ---- page lifecycle (browsers) -------------------------------------------------------------

  /**
   * In browsers: with `closeOnBeforeunload`, drop the transport when the page unloads (no `close`
   * event, so no reconnection starts); and close with "transport close" when the browser goes
   * offline (except for localhost), instead of waiting for the heartbeat.
   */
  #listenToPage(hostname: string | null): void {
    const page = globalThis as {
      addEventListener?: (type: string, listener: () => void, capture?: boolean) => void;
      removeEventListener?: (type: string, listener: () => void, capture?: boolean) => void;
    };
    if (typeof page.addEventListener !== "function") return;
    const listeners: [type: string, listener: () => void][] = [];
    if (this.#options.closeOnBeforeunload === true) {
      listeners.push([
        "beforeunload",
        () => {
          const transport = this.#transport;
          this.#transport = null;
          this.#probe?.transport.discard();
          transport?.close();
        },
      ]);
    }
    if (hostname !== null && !/^localhost(:\d+)?$/.test(hostname)) {
      listeners.push([
        "offline",
        () => this.#onClose("transport close", { description: "network connection lost" }),
      ]);
    }
    for (const [type, listener] of listeners) page.addEventListener(type, listener, false);
    this.#unloadCleanup = () => {
      for (const [type, listener] of listeners) page.removeEventListener?.(type, listener, false);
    };
  }
}

/** A copy of `options` without its undefined fields, so they do not hide the defaults. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}

/** Forgets WebSocket successes remembered for `rememberUpgrade` (tests). */
export function resetRememberedUpgrade(): void {
  priorWebsocketSuccess = false;
}

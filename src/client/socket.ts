/**
 * The client Socket: one namespace over a Manager's connection. Behaves like socket.io-client v4's
 * Socket: buffering while disconnected, acknowledgements (callbacks, `timeout()`, `emitWithAck`,
 * `ackTimeout` with `retries` for at-least-once delivery), catch-all listeners, and connection
 * state recovery (the server's `pid` and the last broadcast offset sent back on reconnection).
 */
import {
  isReservedEventName,
  type SocketPacket,
  SocketPacketType,
} from "../protocol/socketio/index.js";
import { debug } from "./debug.js";
import { listenTo } from "./emitter.js";
import type { ClientPacket, Manager, ManagerReservedEvents } from "./manager.js";
import type { TimerHandle } from "./timers.js";
import { TypedEmitter } from "./typed-emitter.js";
import type {
  AckResult,
  AllButLast,
  CatchAllListener,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  UntypedArg,
} from "./typed-events.js";

/**
 * Why a Socket disconnected: "io server disconnect" (the server disconnected it), "io client
 * disconnect" (`socket.disconnect()`), or why the connection was lost ("ping timeout", "transport
 * close", "transport error", "parse error", "forced close").
 */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error"
  | "forced close";

/** Details of a lost connection: the error, or a description with its context. */
export type DisconnectDescription = Error | { description: string; context?: unknown };

/** A `connect_error`: `data` holds what the server's middleware attached to its error. */
export interface ConnectError extends Error {
  /**
   * `any`, as in socket.io-client, so that untyped code (`err.data.content`) compiles unchanged;
   * it is whatever the server sent, so check it before use.
   */
  // biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io-client types it so)
  data?: any;
}

/** socket.io-client's name for {@link ConnectError}. */
export type ExtendedError = ConnectError;

/** The CONNECT payload, or a function giving it (called on every connection attempt). */
export type SocketAuth =
  | Record<string, unknown>
  | ((callback: (data: Record<string, unknown>) => void) => void);

/** Options of a Socket (given to `io()` or `manager.socket()`). */
export interface SocketOptions {
  /** Sent with the CONNECT packet: an object, or a function calling back with one. */
  auth?: SocketAuth;
  /**
   * Resend unacknowledged events this many times (with `ackTimeout`), one event in flight at a
   * time, for at-least-once delivery in order. Acknowledgement callbacks then take an Error first.
   */
  retries?: number;
  /** Default acknowledgement timeout in milliseconds (callbacks then take an Error first). */
  ackTimeout?: number;
}

/** Events a Socket emits. */
export interface SocketReservedEvents {
  /** Connected to the namespace (also after each reconnection). */
  connect: () => void;
  /** The connection or the namespace refused, or the connection failed before `connect`. */
  connect_error: (err: ConnectError) => void;
  /** Disconnected; after a lost connection the Manager reconnects unless told otherwise. */
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

/** A catch-all listener: the event name, then its arguments (see {@link CatchAllListener}). */
export type AnyListener = CatchAllListener;

/** An acknowledgement callback as stored: `withError` ones get null (or an Error) first. */
type AckCallback = ((...args: unknown[]) => void) & {
  withError?: boolean;
  /** Stops the timeout timer, if any. */
  cancel?: () => void;
};

/** Flags of the next emit. */
interface EmitFlags {
  volatile?: boolean;
  compress?: boolean;
  timeout?: number;
  /** The emit comes from the retry queue (not queued again). */
  fromQueue?: boolean;
}

/** An event in the retry queue (with `retries`). */
interface QueuedPacket {
  id: number;
  tryCount: number;
  pending: boolean;
  /** Event name, arguments and the queue's acknowledgement callback. */
  args: unknown[];
  flags: EmitFlags;
}

const NO_FLAGS: EmitFlags = Object.freeze({});

/**
 * A Socket: the client end of one namespace.
 *
 * @typeParam ListenEvents events the server sends (what `on` accepts)
 * @typeParam EmitEvents events sent to the server (what `emit` accepts)
 *
 * @example
 * const socket = io("https://example.com/chat", { auth: { token } });
 * socket.on("message", (text: string) => console.log(text));
 * socket.emit("message", "hello", (ok: boolean) => {});
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends TypedEmitter<ListenEvents, SocketReservedEvents> {
  // `declare`d fields are set by the constructor: no separate field definitions in the bundle.
  /** The Manager (the connection this Socket uses). */
  declare readonly io: Manager<ListenEvents, EmitEvents>;
  /** The namespace. */
  declare readonly nsp: string;
  /** The session id given by the server while connected, undefined otherwise. */
  id: string | undefined;
  /** Whether connected to the namespace. */
  connected = false;
  /** Whether the last connection recovered the previous session (no event was missed). */
  recovered = false;
  /** Sent with each CONNECT packet. */
  auth: SocketAuth | undefined;
  /** Events received before `connect` is handled, delivered (in order) once it is. */
  receiveBuffer: ReadonlyArray<unknown>[] = [];
  /** Packets emitted while disconnected, sent (in order) on connect; may be inspected or emptied. */
  sendBuffer: ClientPacket[] = [];

  readonly #opts: SocketOptions;
  #ids = 0;
  readonly #acks = new Map<number, AckCallback>();
  #flags: EmitFlags = NO_FLAGS;
  /** Removes this Socket's listeners from its Manager; undefined while not subscribed. */
  #unsubscribe: (() => void) | undefined;
  #anyListeners: AnyListener[] = [];
  #anyOutgoingListeners: AnyListener[] = [];
  #queue: QueuedPacket[] = [];
  #queueSeq = 0;
  /** The server's private session id, when connection state recovery is on. */
  #pid: string | undefined;
  /** Offset of the last event received, sent back to recover what was missed. */
  #lastOffset: string | undefined;

  /** Use `io()` or `manager.socket()` rather than this constructor. */
  constructor(io: Manager<ListenEvents, EmitEvents>, nsp: string, opts?: SocketOptions) {
    super();
    this.io = io;
    this.nsp = nsp;
    if (opts?.auth) this.auth = opts.auth;
    this.#opts = { ...opts };
    if (io._autoConnect) this.open();
  }

  /** Whether disconnected from the namespace. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /**
   * Whether the Socket is subscribed to its Manager: it is connected, connecting, or will connect
   * again after a lost connection (false after `disconnect()` or a refusal by the server).
   */
  get active(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Connects (the Manager's connection is opened if needed). */
  connect(): this {
    if (this.connected) return this;
    this.#subEvents();
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === "open") this.#onopen();
    return this;
  }

  /** Alias of {@link connect}. */
  open(): this {
    return this.connect();
  }

  /** Emits a "message" event. */
  send(...args: UntypedArg[]): this {
    this.#emitEvent(["message", ...args]);
    return this;
  }

  /**
   * Emits an event to the server; a function as last argument is an acknowledgement callback.
   * While disconnected the event is buffered (unless `volatile`).
   *
   * @throws Error for a reserved event name ("connect", "disconnect", ...); TypeError for data that
   *   cannot be encoded (BigInt, cycles), when it is sent at once
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this {
    if (isReservedEventName(ev)) {
      throw new Error(`"${String(ev)}" is a reserved event name`);
    }
    const eventAndArgs: unknown[] = [ev, ...args];
    this.#emitEvent(eventAndArgs);
    return this;
  }

  /**
   * Emits an event and resolves with the server's acknowledgement (its first argument); rejects on
   * timeout (`timeout()` or `ackTimeout`) or when disconnected meanwhile.
   *
   * @example
   * const answer = await socket.timeout(5000).emitWithAck("question", 42);
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<AckResult<EmitEvents, Ev>> {
    if (isReservedEventName(ev)) {
      return Promise.reject(new Error(`"${String(ev)}" is a reserved event name`));
    }
    return new Promise((resolve, reject) => {
      const callback: AckCallback = (err, value) => {
        if (err) reject(err);
        else resolve(value as AckResult<EmitEvents, Ev>);
      };
      callback.withError = true;
      try {
        this.#emitEvent([ev, ...args, callback]);
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Disconnects from the namespace (the connection closes when no other namespace uses it). */
  disconnect(): this {
    if (this.connected) this.#packet({ type: SocketPacketType.Disconnect, nsp: this.nsp });
    this.#destroy();
    if (this.connected) this.#onclose("io client disconnect");
    return this;
  }

  /** Alias of {@link disconnect}. */
  close(): this {
    return this.disconnect();
  }

  /** Sets the compress flag of the next emit (kept for compatibility: the engine decides). */
  compress(compress: boolean): this {
    this.#setFlag("compress", compress);
    return this;
  }

  /** The next emit is dropped unless it can be written at once. */
  get volatile(): this {
    this.#setFlag("volatile", true);
    return this;
  }

  /**
   * The next emit's acknowledgement times out after `timeout` milliseconds: the callback then gets
   * an Error first (`(err, ...args)`), and `emitWithAck` rejects.
   */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>> {
    this.#setFlag("timeout", timeout);
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  }

  /** Adds a listener called for every event received (before the event's own listeners). */
  onAny(listener: AnyListener): this {
    this.#anyListeners = [...this.#anyListeners, listener];
    return this;
  }

  /** Adds a catch-all listener called before the others. */
  prependAny(listener: AnyListener): this {
    this.#anyListeners = [listener, ...this.#anyListeners];
    return this;
  }

  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: AnyListener): this {
    this.#anyListeners = without(this.#anyListeners, listener);
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#anyListeners.slice();
  }

  /** Adds a listener called for every event sent. */
  onAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners = [...this.#anyOutgoingListeners, listener];
    return this;
  }

  /** Adds an outgoing catch-all listener called before the others. */
  prependAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners = [listener, ...this.#anyOutgoingListeners];
    return this;
  }

  /** Removes an outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOutgoingListeners = without(this.#anyOutgoingListeners, listener);
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoingListeners.slice();
  }

  #setFlag<K extends keyof EmitFlags>(name: K, value: EmitFlags[K]): void {
    // NO_FLAGS is shared and frozen; the first flag of an emit gets a fresh object.
    if (this.#flags === NO_FLAGS) this.#flags = {};
    this.#flags[name] = value;
  }

  #subEvents(): void {
    this.#unsubscribe ??= listenTo<ManagerReservedEvents>(this.io, {
      open: () => this.#onopen(),
      packet: (packet) => this.#onpacket(packet),
      error: (err) => this.#onerror(err),
      close: (reason, description) => this.#onclose(reason as DisconnectReason, description),
    });
  }

  /** Emits `eventAndArgs` (the name first, an acknowledgement callback possibly last). */
  #emitEvent(eventAndArgs: unknown[]): void {
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    if (this.#opts.retries && !flags.fromQueue && !flags.volatile) {
      this.#addToQueue(eventAndArgs, flags);
      return;
    }
    const packet: ClientPacket = {
      type: SocketPacketType.Event,
      nsp: this.nsp,
      data: eventAndArgs,
    };
    // Only recorded when asked for: the engine has no per-message compression switch.
    if (flags.compress !== undefined) packet.options = { compress: flags.compress };
    let id: number | undefined;
    const last = eventAndArgs[eventAndArgs.length - 1];
    if (typeof last === "function") {
      id = this.#ids++;
      eventAndArgs.pop();
      this.#registerAckCallback(id, last as AckCallback, flags);
      packet.id = id;
    }
    if (flags.volatile && !(this.connected && this.io._isWritable())) {
      // Dropped rather than buffered. As in socket.io-client its acknowledgement stays registered:
      // a timeout (or the next disconnection) still settles it.
      return;
    }
    if (this.connected && !this.io._hasPingExpired()) {
      const fault = this.io._packet(packet, (reason) => this.#failPacket(id, reason));
      if (fault !== null) {
        if (id !== undefined) this.#dropAck(id);
        throw new TypeError(`cannot send "${String(eventAndArgs[0])}": ${fault}`);
      }
      this.#notifyOutgoingListeners(eventAndArgs);
    } else {
      this.sendBuffer.push(packet);
    }
  }

  #registerAckCallback(id: number, ack: AckCallback, flags: EmitFlags): void {
    const timeout = flags.timeout ?? this.#opts.ackTimeout;
    if (timeout === undefined) {
      this.#acks.set(id, ack);
      return;
    }
    const timer: TimerHandle = this.io.setTimeoutFn(() => {
      this.#acks.delete(id);
      const buffered = this.sendBuffer.findIndex((packet) => packet.id === id);
      if (buffered !== -1) this.sendBuffer.splice(buffered, 1);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    const withTimer: AckCallback = (...args) => {
      this.io.clearTimeoutFn(timer);
      ack.apply(this, args);
    };
    withTimer.withError = true;
    withTimer.cancel = () => this.io.clearTimeoutFn(timer);
    this.#acks.set(id, withTimer);
  }

  /** Forgets an acknowledgement that can no longer come (its timer stopped). */
  #dropAck(id: number): void {
    const ack = this.#acks.get(id);
    if (ack === undefined) return;
    this.#acks.delete(id);
    ack.cancel?.();
  }

  /** A packet failed after the emit returned (a Blob could not be read, data not encodable). */
  #failPacket(id: number | undefined, reason: string): void {
    if (id === undefined) return;
    const ack = this.#acks.get(id);
    this.#dropAck(id);
    if (ack?.withError) ack.call(this, new Error(`the packet could not be sent: ${reason}`));
  }

  #addToQueue(eventAndArgs: unknown[], flags: EmitFlags): void {
    let ack: AckCallback | undefined;
    if (typeof eventAndArgs[eventAndArgs.length - 1] === "function") {
      ack = eventAndArgs.pop() as AckCallback;
    }
    const queued: QueuedPacket = {
      id: this.#queueSeq++,
      tryCount: 0,
      pending: false,
      args: eventAndArgs,
      flags: { ...flags, fromQueue: true },
    };
    const onResponse: AckCallback = (err, ...responseArgs) => {
      // A late answer to an earlier try of a packet already settled.
      if (queued !== this.#queue[0]) return;
      if (err !== null && err !== undefined) {
        if (queued.tryCount > (this.#opts.retries ?? 0)) {
          this.#queue.shift();
          ack?.call(this, err);
        }
      } else {
        this.#queue.shift();
        ack?.call(this, null, ...responseArgs);
      }
      queued.pending = false;
      this.#drainQueue();
    };
    // The queue always reads an error-first answer, with or without a timeout.
    onResponse.withError = true;
    eventAndArgs.push(onResponse);
    this.#queue.push(queued);
    this.#drainQueue();
  }

  /** Sends the first queued packet unless it is in flight (`force`: resend it anyway). */
  #drainQueue(force = false): void {
    if (!this.connected || this.#queue.length === 0) return;
    const queued = this.#queue[0];
    if (queued.pending && !force) return;
    queued.pending = true;
    queued.tryCount++;
    this.#flags = queued.flags;
    try {
      // A copy: #emitEvent pops the acknowledgement off the array it is given.
      this.#emitEvent(queued.args.slice());
    } catch (error) {
      // Data that cannot be encoded never will be: the packet leaves the queue with its error.
      this.#flags = NO_FLAGS;
      queued.tryCount = Infinity;
      const onResponse = queued.args[queued.args.length - 1] as AckCallback;
      onResponse.call(this, toError(error));
    }
  }

  #packet(packet: ClientPacket): string | null {
    return this.io._packet(packet);
  }

  #onopen(): void {
    const auth = this.auth;
    if (typeof auth === "function") {
      try {
        auth((data) => {
          // The callback may answer late: only a Socket still waiting for its connection sends.
          if (this.active && !this.connected && this.io._readyState === "open") {
            this.#sendConnectPacket(data);
          }
        });
      } catch (error) {
        this.emitReserved("connect_error", toError(error));
      }
    } else {
      this.#sendConnectPacket(auth);
    }
  }

  #sendConnectPacket(data: Record<string, unknown> | undefined): void {
    const payload =
      this.#pid === undefined ? data : { pid: this.#pid, offset: this.#lastOffset, ...data };
    const fault = this.#packet({ type: SocketPacketType.Connect, nsp: this.nsp, data: payload });
    if (fault !== null) this.emitReserved("connect_error", new Error(`invalid auth: ${fault}`));
  }

  #onerror(err: Error): void {
    if (!this.connected) this.emitReserved("connect_error", err);
  }

  #onclose(reason: DisconnectReason, description?: DisconnectDescription): void {
    this.connected = false;
    this.id = undefined;
    debug?.(`${this.nsp} disconnected: ${reason}`);
    this.emitReserved("disconnect", reason, description);
    this.#clearAcks();
  }

  /** Acknowledgements of sent packets can no longer come: those with an error path get one. */
  #clearAcks(): void {
    for (const [id, ack] of this.#acks) {
      if (this.sendBuffer.some((packet) => packet.id === id)) continue;
      this.#dropAck(id);
      if (ack.withError) ack.call(this, new Error("socket has been disconnected"));
    }
  }

  #onpacket(packet: SocketPacket): void {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case SocketPacketType.Connect: {
        const sid = packet.data?.sid;
        const pid = packet.data?.pid;
        if (typeof sid === "string" && sid !== "") {
          this.#onconnect(sid, typeof pid === "string" ? pid : undefined);
        } else {
          // A CONNECT without a session id: a Socket.IO v2 server (protocol 4), which v3+ clients
          // cannot talk to.
          this.emitReserved("connect_error", new Error("no sid in CONNECT: Socket.IO v2 server?"));
        }
        break;
      }
      case SocketPacketType.Event:
        this.#onevent(packet.data, packet.id);
        break;
      case SocketPacketType.Ack:
        this.#onack(packet.id, packet.data);
        break;
      case SocketPacketType.Disconnect:
        this.#destroy();
        this.#onclose("io server disconnect");
        break;
      case SocketPacketType.ConnectError: {
        this.#destroy();
        const data = packet.data;
        // Error() turns a message that is not undefined into text itself.
        const err: ConnectError = new Error(
          typeof data === "string" ? data : (data.message as string | undefined),
        );
        if (typeof data === "object") err.data = data.data;
        debug?.(`${this.nsp} refused: ${err.message}`);
        this.emitReserved("connect_error", err);
        break;
      }
    }
  }

  #onevent(eventAndArgs: unknown[], id: number | undefined): void {
    if (id !== undefined) eventAndArgs.push(this.#ack(id));
    if (this.connected) this.#dispatch(eventAndArgs);
    else this.receiveBuffer.push(Object.freeze(eventAndArgs));
  }

  #dispatch(eventAndArgs: readonly unknown[]): void {
    const anyListeners = this.#anyListeners;
    if (anyListeners.length > 0) {
      // Copy-on-write list: listeners added meanwhile wait for the next event.
      for (const listener of anyListeners) listener.apply(this, eventAndArgs as [string]);
    }
    this.emitUntyped(eventAndArgs);
    const last = eventAndArgs[eventAndArgs.length - 1];
    if (this.#pid !== undefined && eventAndArgs.length > 1 && typeof last === "string") {
      this.#lastOffset = last;
    }
  }

  /**
   * The acknowledgement function handed to listeners: answers once (later calls do nothing);
   * throws a TypeError, like `emit`, for arguments that cannot be encoded.
   */
  #ack(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      const fault = this.#packet({ type: SocketPacketType.Ack, nsp: this.nsp, id, data: args });
      if (fault !== null) throw new TypeError(`cannot send the acknowledgement: ${fault}`);
    };
  }

  #onack(id: number, args: unknown[]): void {
    const ack = this.#acks.get(id);
    if (ack === undefined) return;
    this.#acks.delete(id);
    if (ack.withError) args.unshift(null);
    ack.apply(this, args);
  }

  #onconnect(id: string, pid: string | undefined): void {
    this.id = id;
    this.recovered = pid !== undefined && this.#pid === pid;
    this.#pid = pid;
    this.connected = true;
    debug?.(`${this.nsp} connected: ${id}`);
    this.#emitBuffered();
    this.#drainQueue(true);
    this.emitReserved("connect");
  }

  #emitBuffered(): void {
    const received = this.receiveBuffer;
    this.receiveBuffer = [];
    for (const eventAndArgs of received) this.#dispatch(eventAndArgs);
    const toSend = this.sendBuffer;
    this.sendBuffer = [];
    for (const packet of toSend) {
      const id = packet.id;
      const fault = this.io._packet(packet, (reason) => this.#failPacket(id, reason));
      // Data that cannot be encoded fails its acknowledgement (there is no caller to throw to).
      if (fault !== null) this.#failPacket(id, fault);
      else this.#notifyOutgoingListeners(packet.data as unknown[]);
    }
  }

  #notifyOutgoingListeners(eventAndArgs: readonly unknown[]): void {
    const listeners = this.#anyOutgoingListeners;
    if (listeners.length === 0) return;
    for (const listener of listeners) listener.apply(this, eventAndArgs as [string]);
  }

  #destroy(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.io._destroy(this);
  }
}

/** `list` without `listener` (its first occurrence), or empty when no listener is given. */
function without(list: AnyListener[], listener: AnyListener | undefined): AnyListener[] {
  if (listener === undefined) return [];
  const index = list.indexOf(listener);
  if (index === -1) return list;
  return [...list.slice(0, index), ...list.slice(index + 1)];
}

/** `value` as an Error (thrown values need not be Errors). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Typed events for the Socket.IO server, with socket.io v4's names and shapes (`EventsMap`,
 * `DefaultEventsMap`, `EventNames`, `EventParams`, `StrictEventEmitter`, the acknowledgement
 * decorators used by `timeout()` and broadcasts) but without `any`. The events-map machinery is
 * shared with the client (`src/protocol/socketio/event-maps.ts`, where the untyped default is
 * explained); what is here is the server's own: broadcasts' acknowledgements and the typed
 * EventEmitter.
 */
import { EventEmitter } from "node:events";
import type {
  AcceptsAnything,
  EventNames,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  IsUntypedListener,
  Last,
  ParametersOf,
  PrependTimeoutError,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../protocol/socketio/event-maps.js";

// The shared events-map machinery, under the names socket.io users know.
export type * from "../protocol/socketio/event-maps.js";

/**
 * The default type of `socket.data` when none is given: `any`, as in socket.io, so that untyped
 * socket.io code (`socket.data.user = ...`) compiles unchanged. Give `Server` a `SocketData` type
 * argument to have it checked.
 */
// biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io's default is any)
export type DefaultSocketData = any;

/** The parameters of the `message` event (`send`/`write`), or never when the map has none. */
export type MessageParams<Map extends EventsMap> = "message" extends keyof Map
  ? ParametersOf<Map["message" & keyof Map]>
  : never;

/** True when `F`'s last parameter is an acknowledgement that carries data (or `F` is untyped). */
type HasAckWithData<F> = F extends (...args: infer P) => unknown
  ? AcceptsAnything<Last<P>> extends true
    ? true
    : Last<P> extends (...args: never[]) => unknown
      ? FirstNonErrorArg<Last<P>> extends void
        ? false
        : true
      : false
  : false;

/** True when `F` takes no acknowledgement (or is untyped). */
type HasNoAck<F> = F extends (...args: infer P) => unknown
  ? AcceptsAnything<Last<P>> extends true
    ? true
    : P extends []
      ? true
      : Last<P> extends (...args: never[]) => unknown
        ? false
        : true
  : true;

/** True when `F`'s acknowledgement takes an Error first (after `timeout()`), or `F` is untyped. */
type HasAckWithError<F> = F extends (...args: infer P) => unknown
  ? AcceptsAnything<Last<P>> extends true
    ? true
    : Last<P> extends (...args: infer A) => unknown
      ? A[0] extends Error
        ? true
        : false
      : false
  : false;

/** Names of the events whose last parameter is an acknowledgement carrying data. */
export type EventNamesWithAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = K extends unknown ? (HasAckWithData<Map[K]> extends true ? K : never) : never;

/** Names of the events without acknowledgement. */
export type EventNamesWithoutAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = K extends unknown ? (HasNoAck<Map[K]> extends true ? K : never) : never;

/** Names of the events whose acknowledgement takes an Error first (after `timeout()`). */
export type EventNamesWithError<
  Map extends EventsMap,
  K extends EventNamesWithAck<Map> = EventNamesWithAck<Map>,
> = K extends unknown ? (HasAckWithError<Map[K]> extends true ? K : never) : never;

/** The map without the events that take an acknowledgement (broadcasts without timeout). */
export type RemoveAcknowledgements<E extends EventsMap> = {
  [K in EventNamesWithoutAck<E>]: E[K];
};

/** Each element of a tuple as an array (one value per responding client). */
export type MultiplyArray<T extends readonly unknown[]> = { [K in keyof T]: T[K][] };

/** The first element of a tuple as a one-element tuple, keeping its label. */
type InferFirstAndPreserveLabel<T extends readonly unknown[]> = T extends [unknown, ...infer R]
  ? T extends [...infer H, ...R]
    ? H
    : never
  : never;

/** Callback parameters become one array of first values (one per client), after any Error. */
type ExpectMultipleResponses<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P extends [Error]
      ? (err: Error) => R
      : P extends [Error, ...infer Rest]
        ? (err: Error, ...args: InferFirstAndPreserveLabel<MultiplyArray<Rest>>) => R
        : P extends []
          ? () => R
          : (...args: InferFirstAndPreserveLabel<MultiplyArray<P>>) => R
    : T[K];
};

/** The map as a broadcast with timeout sees it: an Error, then one response per client. */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: IsUntypedListener<E[K]> extends true
    ? E[K]
    : E[K] extends (...args: infer P) => infer R
      ? (...args: ExpectMultipleResponses<PrependTimeoutError<P>>) => R
      : E[K];
};

/** The map as a broadcast sees it: one response per client. */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: IsUntypedListener<E[K]> extends true
    ? E[K]
    : E[K] extends (...args: infer P) => infer R
      ? (...args: ExpectMultipleResponses<P>) => R
      : E[K];
};

/** Something with a typed `emit`, without being an EventEmitter (broadcast operators). */
export interface TypedEventBroadcaster<EmitEvents extends EventsMap> {
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
}

/** The EventEmitter methods that {@link StrictEventEmitter} redeclares with typed signatures. */
type TypedEmitterMethods =
  | "on"
  | "addListener"
  | "once"
  | "prependListener"
  | "prependOnceListener"
  | "off"
  | "removeListener"
  | "emit"
  | "listeners";

/**
 * EventEmitter at run time; at the type level without the methods redeclared below, whose
 * `(...args: any[])` signatures the typed ones could not override.
 */
const UntypedEmitterMethodsRemoved = EventEmitter as unknown as new () => Omit<
  EventEmitter,
  TypedEmitterMethods
>;

/** A listener as EventEmitter stores it. */
type StoredListener = (...args: unknown[]) => void;

const emitter = EventEmitter.prototype;

/**
 * An EventEmitter with typed `on`/`once`/`off`/`emit`: `ListenEvents` are the user events that can
 * be listened to, `EmitEvents` the ones that can be emitted, `ReservedEvents` those the library
 * emits itself (listenable, emitted only through `emitReserved`). Instances are EventEmitters.
 */
export abstract class StrictEventEmitter<
    ListenEvents extends EventsMap,
    EmitEvents extends EventsMap,
    ReservedEvents extends EventsMap = Record<never, never>,
  >
  extends UntypedEmitterMethodsRemoved
  implements TypedEventBroadcaster<EmitEvents>
{
  /** Adds `listener` for `ev`. */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.on.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Alias of {@link on}. */
  addListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.addListener.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Adds a one-time `listener` for `ev`. */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.once.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Adds `listener` for `ev` before the others. */
  prependListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.prependListener.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Adds a one-time `listener` for `ev` before the others. */
  prependOnceListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.prependOnceListener.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Removes `listener` from `ev`. */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.off.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Alias of {@link off}. */
  removeListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.removeListener.call(this, ev, listener as StoredListener);
    return this;
  }

  /** Emits `ev` with `args` to this emitter's listeners. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return emitter.emit.call(this, ev, ...args);
  }

  /** The listeners of `event`. */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[] {
    return emitter.listeners.call(this, event) as ReservedOrUserListener<
      ReservedEvents,
      ListenEvents,
      Ev
    >[];
  }

  /** Emits a reserved event (subclasses only). */
  protected emitReserved<Ev extends EventNames<ReservedEvents>>(
    ev: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ): boolean {
    return emitter.emit.call(this, ev, ...args);
  }

  /**
   * Emits any event, bypassing the typing (subclasses only: incoming packets): `eventAndArgs` is
   * the event name followed by its arguments, as packets carry them (no copy to spread them).
   */
  protected emitUntyped(eventAndArgs: readonly [string | number, ...unknown[]]): boolean {
    return emitter.emit.apply(this, eventAndArgs as unknown as [string, ...unknown[]]);
  }
}

/**
 * Typed events for the Socket.IO server, with socket.io v4's names and shapes (`EventsMap`,
 * `DefaultEventsMap`, `EventNames`, `EventParams`, `StrictEventEmitter`, the acknowledgement
 * decorators used by `timeout()` and broadcasts) but without `any`.
 *
 * The untyped default: socket.io declares `DefaultEventsMap` as `(...args: any[]) => void`. Here an
 * untyped event's listener takes {@link UntypedArg}s and is declared bivariantly, so that:
 * - annotated listeners compile: `socket.on("chat", (text: string, ack: (ok: boolean) => void) => ...)`;
 * - `emit` takes any values, and inline acknowledgement callbacks get a contextual signature
 *   (`socket.emit("ping", (reply) => ...)` compiles with `reply: unknown`);
 * - unannotated listener parameters are `unknown`-like: narrow them, annotate them, or declare an
 *   events map (the one place where untyped socket.io code may need a change).
 */
import { EventEmitter } from "node:events";

/**
 * An events map: event names to listener signatures (any object type, interfaces included).
 *
 * @example
 * interface ServerToClientEvents {
 *   hello: (greeting: string) => void;
 *   withAck: (n: number, ack: (doubled: number) => void) => void;
 * }
 */
export type EventsMap = object;

/** The acknowledgement callback member of {@link UntypedArg}: gives inline callbacks a signature. */
export type UntypedAck = (...args: unknown[]) => void;

/**
 * One argument of an untyped event: any value. `{} | null | undefined` is what `unknown` is made of
 * (so `unknown` values are accepted); the function member lets inline callbacks be typed.
 */
// biome-ignore lint/complexity/noBannedTypes: `{}` (any non-nullish value) is the point here.
export type UntypedArg = {} | null | undefined | UntypedAck;

/**
 * The listener of an untyped event: any arguments. Declared as a method so its parameters are
 * checked bivariantly, which lets listeners with annotated parameters be registered.
 */
export type UntypedListener = {
  bivarianceHack(...args: UntypedArg[]): void;
}["bivarianceHack"];

/** The events map used when none is given: every event name, any arguments. */
export interface DefaultEventsMap {
  [event: string]: UntypedListener;
}

/** The default type of `socket.data` when none is given. */
export type DefaultSocketData = Record<string, unknown>;

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

/** The parameters of a function type (distributes over unions; never for non-functions). */
export type ParametersOf<F> = F extends (...args: infer P) => unknown ? P : never;

/** The tuple of parameters of an event's listener. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = ParametersOf<Map[Ev]>;

/** The parameters of the `message` event (`send`/`write`), or never when the map has none. */
export type MessageParams<Map extends EventsMap> = "message" extends keyof Map
  ? ParametersOf<Map["message" & keyof Map]>
  : never;

/** Event names that are either reserved or user-defined. */
export type ReservedOrUserEventNames<
  ReservedEventsMap extends EventsMap,
  UserEvents extends EventsMap,
> = EventNames<ReservedEventsMap> | EventNames<UserEvents>;

/** The listener type of `Ev`: the reserved listener if `Ev` is reserved, else the user's. */
export type ReservedOrUserListener<
  ReservedEvents extends EventsMap,
  UserEvents extends EventsMap,
  Ev extends ReservedOrUserEventNames<ReservedEvents, UserEvents>,
> = FallbackToUntypedListener<
  Ev extends EventNames<ReservedEvents>
    ? ReservedEvents[Ev]
    : Ev extends EventNames<UserEvents>
      ? UserEvents[Ev]
      : never
>;

/** {@link UntypedListener} where the lookup gave never (a name typed as a wide enum or union). */
type FallbackToUntypedListener<T> = [T] extends [never] ? UntypedListener : T;

/** True when every value is accepted where `T` is expected (an untyped event argument). */
type AcceptsAnything<T> = UntypedArg extends T ? true : false;

/** The last element type of a tuple (the element type of a plain array). */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L]
  ? L
  : T extends readonly (infer E)[]
    ? E
    : never;

/** A tuple without its last element (a plain array unchanged). */
export type AllButLast<T extends readonly unknown[]> = T extends readonly [...infer H, unknown]
  ? H
  : T;

/** The first element of a tuple, skipping a leading Error. */
export type FirstNonErrorTuple<T extends readonly unknown[]> = T[0] extends Error ? T[1] : T[0];

/** The first non-Error parameter of a callback type: what an acknowledgement resolves with. */
export type FirstNonErrorArg<T> = T extends (...args: infer P) => unknown
  ? FirstNonErrorTuple<P>
  : unknown;

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

/** Callback parameters get a leading Error (the timeout) unless they have one. */
type PrependTimeoutError<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P[0] extends Error
      ? T[K]
      : (err: Error, ...args: P) => R
    : T[K];
};

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

/**
 * The map as `timeout(ms)` sees it: acknowledgement callbacks receive an Error first.
 *
 * @example
 * socket.timeout(1000).emit("withAck", 21, (err, doubled) => {});
 */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: PrependTimeoutError<P>) => R
    : E[K];
};

/** The map as a broadcast with timeout sees it: an Error, then one response per client. */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: ExpectMultipleResponses<PrependTimeoutError<P>>) => R
    : E[K];
};

/** The map as a broadcast sees it: one response per client. */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
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

  /** Emits any event, bypassing the typing (subclasses only: incoming packets). */
  protected emitUntyped(ev: string | number, ...args: unknown[]): boolean {
    return emitter.emit.call(this, ev as string, ...args);
  }
}

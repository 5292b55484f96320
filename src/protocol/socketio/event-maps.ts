/**
 * The type-level contract of Socket.IO events, shared by the server (`src/server/typed-events.ts`)
 * and the client (`src/client/typed-events.ts`): events maps (event names to listener signatures)
 * and what is derived from them, with socket.io v4's names and shapes but without `any`. Types
 * only: nothing here exists at run time.
 *
 * The untyped default: as socket.io's `DefaultEventsMap`, an untyped event's listener is
 * `(...args: any[]) => void`, so untyped socket.io code compiles unchanged: unannotated listener
 * parameters, acknowledgement callbacks' parameters and `emitWithAck` results are `any`; annotated
 * listeners compile too. Give event maps to have events checked: typed maps stay strict.
 * @module
 */

/**
 * An events map: event names to listener signatures (any object type, interfaces included).
 *
 * @example
 * interface ServerToClientEvents {
 *   hello: (greeting: string) => void;
 * }
 * interface ClientToServerEvents {
 *   double: (n: number, ack: (doubled: number) => void) => void;
 * }
 */
export type EventsMap = object;

/**
 * The acknowledgement callback member of {@link UntypedArg}: gives inline callbacks of untyped
 * emits a signature, with `any` parameters as socket.io's untyped acknowledgements have (and
 * without socket.io's implicit-any error on `emit("ev", (reply) => ...)`).
 */
// biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (untyped acknowledgements carry any)
export type UntypedAck = (...args: any[]) => void;

/**
 * One argument of an untyped event: any value. `{} | null | undefined` is what `unknown` is made of
 * (so `unknown` values are accepted); the function member lets inline callbacks be typed.
 */
// biome-ignore lint/complexity/noBannedTypes: `{}` (any non-nullish value) is the point here.
export type UntypedArg = {} | null | undefined | UntypedAck;

/**
 * The listener of an untyped event: any arguments, each `any` as in socket.io's
 * `DefaultEventsMap`, so that unannotated listener parameters, acknowledgement callbacks and
 * `emitWithAck` results of untyped code are usable as socket.io users write them. Declared as a
 * method so its parameters are checked bivariantly: listeners with narrower annotations register.
 */
export type UntypedListener = {
  // biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io's DefaultEventsMap uses any[])
  bivarianceHack(...args: any[]): void;
}["bivarianceHack"];

/**
 * A catch-all listener (`onAny`, `onAnyOutgoing`): the event name, then the event's arguments,
 * each `any` as socket.io types them (events reaching it are not checked against any map).
 * Declared as a method so that listeners with annotated parameters register.
 */
export type CatchAllListener = {
  // biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io's onAny listeners take any[])
  bivarianceHack(event: string, ...args: any[]): void;
}["bivarianceHack"];

/** The events map used when none is given: every event name, any arguments. */
export interface DefaultEventsMap {
  [event: string]: UntypedListener;
}

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

/** The parameters of a function type (distributes over unions; never for non-functions). */
export type ParametersOf<F> = F extends (...args: infer P) => unknown ? P : never;

/** True when `T` is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** True when `F` is an untyped listener ({@link UntypedListener}: `any` parameters). */
export type IsUntypedListener<F> = F extends (...args: infer P) => unknown
  ? IsAny<P[number]>
  : false;

/**
 * The tuple of parameters of an event's listener; for an untyped event, {@link UntypedArg}s (any
 * values, and inline acknowledgement callbacks get a signature).
 */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> =
  IsUntypedListener<Map[Ev]> extends true ? UntypedArg[] : ParametersOf<Map[Ev]>;

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
export type AcceptsAnything<T> = UntypedArg extends T ? true : false;

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

/**
 * The first non-Error parameter of a callback type: what an acknowledgement resolves with (after
 * `timeout()`, the Error comes first).
 */
export type FirstNonErrorArg<T> = T extends (...args: infer P) => unknown
  ? FirstNonErrorTuple<P>
  : unknown;

/** Callback parameters get a leading Error (the timeout) unless they have one. */
export type PrependTimeoutError<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P[0] extends Error
      ? T[K]
      : (err: Error, ...args: P) => R
    : T[K];
};

/**
 * The map as `timeout(ms)` sees it: acknowledgement callbacks receive an Error first.
 *
 * @example
 * socket.timeout(1000).emit("double", 21, (err, doubled) => {});
 */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: IsUntypedListener<E[K]> extends true
    ? E[K]
    : E[K] extends (...args: infer P) => infer R
      ? (...args: PrependTimeoutError<P>) => R
      : E[K];
};

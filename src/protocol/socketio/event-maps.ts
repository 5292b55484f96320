/**
 * The type-level contract of Socket.IO events, shared by the server (`src/server/typed-events.ts`)
 * and the client (`src/client/typed-events.ts`): events maps (event names to listener signatures)
 * and what is derived from them, with socket.io v4's names and shapes but without `any`. Types
 * only: nothing here exists at run time.
 *
 * The untyped default: socket.io declares `DefaultEventsMap` as `(...args: any[]) => void`. Here an
 * untyped event's listener takes {@link UntypedArg}s and is declared bivariantly, so that:
 * - annotated listeners compile: `socket.on("chat", (text: string, ack: (ok: boolean) => void) => ...)`;
 * - `emit` takes any values, and inline acknowledgement callbacks get a contextual signature
 *   (`socket.emit("ping", (reply) => ...)` compiles with `reply: unknown`);
 * - unannotated listener parameters are `unknown`-like: narrow them, annotate them, or declare an
 *   events map (the one place where untyped socket.io code may need a change).
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

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

/** The parameters of a function type (distributes over unions; never for non-functions). */
export type ParametersOf<F> = F extends (...args: infer P) => unknown ? P : never;

/** The tuple of parameters of an event's listener. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = ParametersOf<Map[Ev]>;

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
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: PrependTimeoutError<P>) => R
    : E[K];
};

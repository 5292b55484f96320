/**
 * Typed events for the client, with socket.io-client v4's names and shapes (`EventsMap`,
 * `DefaultEventsMap`, `EventNames`, `EventParams`, `DecorateAcknowledgements`, ...) but without
 * `any`. The events-map machinery is shared with the server (`src/protocol/socketio/event-maps.ts`);
 * what is here is the client's own: which events take an acknowledgement and what `emitWithAck`
 * resolves with.
 */
import type {
  AcceptsAnything,
  EventNames,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "../protocol/socketio/event-maps.js";

// The shared events-map machinery, under the names socket.io users know.
export type * from "../protocol/socketio/event-maps.js";

/** The first parameter of a callback type: what `emitWithAck` resolves with. */
export type FirstArg<T> = T extends (...args: infer P) => unknown
  ? P extends readonly []
    ? undefined
    : P[0]
  : unknown;

/** True when `F`'s last parameter is an acknowledgement callback (or `F` is untyped). */
type HasAck<F> = F extends (...args: infer P) => unknown
  ? AcceptsAnything<Last<P>> extends true
    ? true
    : Last<P> extends (...args: never[]) => unknown
      ? true
      : false
  : false;

/** Names of the events whose last parameter is an acknowledgement callback. */
export type EventNamesWithAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = K extends unknown ? (HasAck<Map[K]> extends true ? K : never) : never;

/** What `emitWithAck` resolves with for event `Ev`: the acknowledgement's first data argument. */
export type AckResult<Map extends EventsMap, Ev extends EventNames<Map>> = FirstNonErrorArg<
  Last<EventParams<Map, Ev>>
>;

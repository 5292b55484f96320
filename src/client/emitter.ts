/**
 * A small typed event emitter for browser code (no Node `events`), shaped like socket.io-client's
 * `@socket.io/component-emitter`: `on`/`once`/`off`/`emit`/`emitReserved`/`listeners`/
 * `hasListeners`/`removeAllListeners`, every mutator returning `this`.
 *
 * Event maps may give each event's arguments as a tuple (`{ open: []; message: [string] }`) or as
 * a listener signature (`{ chat: (text: string) => void }`), so socket.io-style user maps work
 * unchanged.
 *
 * Three maps, as in socket.io-client: `ListenEvents` (user events that can be listened to),
 * `EmitEvents` (what `emit` takes; a Socket overrides `emit` to send these to the server) and
 * `ReservedEvents` (emitted by the library itself through `emitReserved`, listenable). With one
 * map, it is all three's user part: `Emitter<{ open: [] }>` listens to and emits `open`.
 * @module
 */

import type { EventNames, EventsMap } from "../protocol/socketio/event-maps.js";

/** The argument tuple of an event given as a tuple or as a listener signature. */
export type EventArgs<T> = T extends readonly unknown[]
  ? T
  : T extends (...args: infer P) => unknown
    ? P
    : never;

/** A listener for an event of `Map`. */
export type EventListener<Map extends EventsMap, Ev extends EventNames<Map>> = (
  ...args: EventArgs<Map[Ev]>
) => void;

/** The names that can be listened to: reserved or user-defined. */
export type ListenableNames<Listen extends EventsMap, Reserved extends EventsMap> =
  | EventNames<Listen>
  | EventNames<Reserved>;

/** The listener of a listenable event: the reserved signature wins over a user one. */
export type ListenableListener<
  Listen extends EventsMap,
  Reserved extends EventsMap,
  Ev extends ListenableNames<Listen, Reserved>,
> =
  Ev extends EventNames<Reserved>
    ? EventListener<Reserved, Ev>
    : Ev extends EventNames<Listen>
      ? EventListener<Listen, Ev>
      : never;

/** How listeners are stored: a `once` wrapper keeps the original so `off(ev, original)` finds it. */
type StoredListener = ((...args: unknown[]) => void) & { original?: (...args: never[]) => void };

/**
 * The typed event emitter. Listener lists are copy-on-write: `emit` walks the list as it was when
 * the emission started, without copying it, and listeners added or removed meanwhile take effect
 * from the next emission. A throwing listener stops the emission and the exception propagates to
 * the caller of `emit`, as with Node's EventEmitter; an `error` event with no listener is simply
 * dropped (no throw).
 */
export class Emitter<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ReservedEvents extends EventsMap = Record<never, never>,
> {
  #listeners: Map<string | symbol, StoredListener[]> = new Map();

  /** Adds `listener` for `event`. */
  on<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    this.#add(event, listener as StoredListener);
    return this;
  }

  /** Alias of {@link on}. */
  addEventListener<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return this.on(event, listener);
  }

  /** Adds `listener` for the next `event` only. */
  once<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    const original = listener as StoredListener;
    const wrapper: StoredListener = (...args: unknown[]) => {
      this.#remove(event, wrapper);
      original.apply(this, args);
    };
    wrapper.original = original;
    this.#add(event, wrapper);
    return this;
  }

  /**
   * Removes listeners: with no arguments every listener of every event, with an event every
   * listener of it, with both the first registration of `listener` (added by `on` or `once`).
   */
  off<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    if (event === undefined) {
      this.#listeners.clear();
    } else if (listener === undefined) {
      this.#listeners.delete(event);
    } else {
      this.#remove(event, listener as StoredListener);
    }
    return this;
  }

  /** Alias of {@link off}. */
  removeListener<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return this.off(event, listener);
  }

  /** Alias of {@link off}. */
  removeEventListener<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ListenableListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event when none is given. */
  removeAllListeners<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(event?: Ev): this {
    return this.off(event);
  }

  /** Calls the listeners of `event` with `args`, in registration order. */
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventArgs<EmitEvents[Ev]>): this {
    this.#dispatch(event, args);
    return this;
  }

  /**
   * Emits a reserved event. Separate from {@link emit} so that a subclass can give `emit` another
   * meaning (a Socket sends `emit`ted events to the server) and still raise its own events.
   */
  emitReserved<Ev extends EventNames<ReservedEvents>>(
    event: Ev,
    ...args: EventArgs<ReservedEvents[Ev]>
  ): this {
    this.#dispatch(event, args);
    return this;
  }

  /** The listeners of `event` (a copy), as they were passed to `on` or `once`. */
  listeners<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(
    event: Ev,
  ): ListenableListener<ListenEvents, ReservedEvents, Ev>[] {
    const list = this.#listeners.get(event);
    if (list === undefined) return [];
    return list.map((stored) => (stored.original ?? stored) as never);
  }

  /** Whether `event` has at least one listener. */
  hasListeners<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(event: Ev): boolean {
    return this.#listeners.has(event);
  }

  /** The number of listeners of `event`. */
  listenerCount<Ev extends ListenableNames<ListenEvents, ReservedEvents>>(event: Ev): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  #dispatch(event: string | symbol, args: readonly unknown[]): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    if (list.length === 1) {
      list[0].apply(this, args as unknown[]);
      return;
    }
    for (let i = 0; i < list.length; i++) list[i].apply(this, args as unknown[]);
  }

  #add(event: string | symbol, listener: StoredListener): void {
    const list = this.#listeners.get(event);
    // A new array each time: an emission in progress keeps walking the old one.
    this.#listeners.set(event, list === undefined ? [listener] : [...list, listener]);
  }

  #remove(event: string | symbol, listener: StoredListener): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    const index = list.findIndex((stored) => stored === listener || stored.original === listener);
    if (index === -1) return;
    if (list.length === 1) {
      this.#listeners.delete(event);
      return;
    }
    const next = list.slice();
    next.splice(index, 1);
    this.#listeners.set(event, next);
  }
}

/** Listeners of some events of an event map, by event name. */
export type ListenerMap<Map extends EventsMap> = {
  [Ev in EventNames<Map>]?: EventListener<Map, Ev>;
};

/** What {@link listenTo} needs of an emitter (an {@link Emitter}, or a Manager for its Sockets). */
interface Subscribable {
  on(event: never, listener: never): unknown;
  off(event: never, listener: never): unknown;
}

/**
 * Adds each listener of `listeners` to `emitter` (in the object's order); returns the function
 * removing them all again (the Manager and its Sockets follow one connection at a time this way).
 */
export function listenTo<Map extends EventsMap>(
  emitter: Subscribable,
  listeners: ListenerMap<Map>,
): () => void {
  // The map's types have checked each listener against its event; the emitter takes them as such.
  const entries = Object.entries(listeners) as [never, never][];
  for (const [event, listener] of entries) emitter.on(event, listener);
  return () => {
    for (const [event, listener] of entries) emitter.off(event, listener);
  };
}

/**
 * The listener side of Manager and Socket: `on`/`once`/`off`/... typed with socket.io-client's
 * conventions (`ReservedOrUserListener`: bivariant untyped listeners, reserved events first), over
 * the client's {@link Emitter} at run time.
 *
 * The Emitter's own signatures are not reused because an untyped event's listener must accept
 * annotated parameters (`socket.on("chat", (text: string) => ...)`), which needs the bivariant
 * {@link UntypedListener}; so the class extends the Emitter at run time (listeners run with `this`
 * set to the Manager or Socket, as in socket.io-client) and redeclares the methods with these types.
 */
import { Emitter } from "./emitter.js";
import type {
  EventNames,
  EventParams,
  EventsMap,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "./typed-events.js";

/** A listener as the Emitter stores it. */
type StoredListener = (...args: unknown[]) => void;

/** The Emitter's methods, untyped (what the typed ones below call). */
interface UntypedEmitter {
  on(event: string | symbol, listener: StoredListener): unknown;
  once(event: string | symbol, listener: StoredListener): unknown;
  off(event?: string | symbol, listener?: StoredListener): unknown;
  emitReserved(event: string | symbol, ...args: unknown[]): unknown;
  listeners(event: string | symbol): StoredListener[];
  hasListeners(event: string | symbol): boolean;
  listenerCount(event: string | symbol): number;
}

const emitter = Emitter.prototype as unknown as UntypedEmitter;

/** The Emitter class at run time, without its typed methods at the type level. */
const EmitterBase = Emitter as unknown as abstract new () => object;

/**
 * An event emitter whose listenable events are `ListenEvents` (user events) and `ReservedEvents`
 * (raised by the library itself through {@link emitReserved}).
 */
export abstract class TypedEmitter<
  ListenEvents extends EventsMap,
  ReservedEvents extends EventsMap,
> extends EmitterBase {
  /** Adds `listener` for `event`. */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.on.call(this, event, listener as StoredListener);
    return this;
  }

  /** Alias of {@link on}. */
  addEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.on(event, listener);
  }

  /** Adds `listener` for the next `event` only. */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.once.call(this, event, listener as StoredListener);
    return this;
  }

  /**
   * Removes listeners: with no arguments every listener of every event, with an event every
   * listener of it, with both that listener.
   */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    emitter.off.call(this, event, listener as StoredListener | undefined);
    return this;
  }

  /** Alias of {@link off}. */
  removeListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.off(event, listener);
  }

  /** Alias of {@link off}. */
  removeEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event when none is given. */
  removeAllListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event?: Ev,
  ): this {
    emitter.off.call(this, event);
    return this;
  }

  /** The listeners of `event` (a copy). */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[] {
    return emitter.listeners.call(this, event) as ReservedOrUserListener<
      ReservedEvents,
      ListenEvents,
      Ev
    >[];
  }

  /** Whether `event` has at least one listener. */
  hasListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): boolean {
    return emitter.hasListeners.call(this, event);
  }

  /** The number of listeners of `event`. */
  listenerCount<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): number {
    return emitter.listenerCount.call(this, event);
  }

  /** Raises one of the library's own events. */
  protected emitReserved<Ev extends EventNames<ReservedEvents>>(
    event: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ): void {
    emitter.emitReserved.call(this, event, ...args);
  }

  /**
   * Raises a user event received from the server (its listeners' types are not checked):
   * `eventAndArgs` is the event name followed by its arguments, as packets carry them.
   */
  protected emitUntyped(eventAndArgs: readonly unknown[]): void {
    emitter.emitReserved.apply(this, eventAndArgs as [string, ...unknown[]]);
  }
}

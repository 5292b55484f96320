/**
 * The listener side of Manager and Socket: `on`/`once`/`off`/... typed with socket.io-client's
 * conventions (`ReservedOrUserListener`: bivariant untyped listeners, reserved events first), over
 * the client's {@link Emitter} at run time.
 *
 * The Emitter's own signatures are not reused because an untyped event's listener must accept
 * annotated parameters (`socket.on("chat", (text: string) => ...)`), which needs the bivariant
 * {@link UntypedListener}; so the class extends the Emitter at run time (listeners run with `this`
 * set to the Manager or Socket, as in socket.io-client) and redeclares the methods with these types.
 * The redeclarations are `declare`d fields: types only, the Emitter's methods are what runs (no
 * forwarding methods in the browser bundle).
 */
import { Emitter } from "./emitter.js";
import type {
  EventNames,
  EventParams,
  EventsMap,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "./typed-events.js";

/** The Emitter class at run time, without its typed methods at the type level. */
const EmitterBase = Emitter as unknown as abstract new () => object;

/** The names a listener can be added for: reserved events, then user events. */
type Listenable<Listen extends EventsMap, Reserved extends EventsMap> = ReservedOrUserEventNames<
  Reserved,
  Listen
>;

/**
 * An event emitter whose listenable events are `ListenEvents` (user events) and `ReservedEvents`
 * (raised by the library itself through {@link emitReserved}).
 */
export abstract class TypedEmitter<
  ListenEvents extends EventsMap,
  ReservedEvents extends EventsMap,
> extends EmitterBase {
  /** Adds `listener` for `event`. */
  declare on: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Alias of {@link on}. */
  declare addEventListener: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Adds `listener` for the next `event` only. */
  declare once: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /**
   * Removes listeners: with no arguments every listener of every event, with an event every
   * listener of it, with both that listener.
   */
  declare off: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Alias of {@link off}. */
  declare removeListener: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Alias of {@link off}. */
  declare removeEventListener: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Removes every listener of `event`, or of every event when none is given. */
  declare removeAllListeners: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event?: Ev,
  ) => this;

  /** The listeners of `event` (a copy). */
  declare listeners: <Ev extends Listenable<ListenEvents, ReservedEvents>>(
    event: Ev,
  ) => ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];

  /** Whether `event` has at least one listener. */
  declare hasListeners: <Ev extends Listenable<ListenEvents, ReservedEvents>>(event: Ev) => boolean;

  /** The number of listeners of `event`. */
  declare listenerCount: <Ev extends Listenable<ListenEvents, ReservedEvents>>(event: Ev) => number;

  /** Raises one of the library's own events. */
  declare protected emitReserved: <Ev extends EventNames<ReservedEvents>>(
    event: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ) => void;

  /**
   * Raises a user event received from the server (its listeners' types are not checked):
   * `eventAndArgs` is the event name followed by its arguments, as packets carry them.
   */
  protected emitUntyped(eventAndArgs: readonly unknown[]): void {
    (this.emitReserved as (...eventAndArgs: readonly unknown[]) => void).apply(
      this,
      eventAndArgs as unknown[],
    );
  }
}

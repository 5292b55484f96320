/**
 * Listener tables (EventEmitter's `_events`) for the emitters made once per connection: the
 * WebSocket, the Engine.IO session and its transport, the Socket.IO socket.
 *
 * EventEmitter's own table is a null-prototype literal, which V8 keeps in dictionary mode: its
 * hash table costs about 160 B of heap even while empty, and about 190 B once listeners are
 * added. An instance of a constructor made here is a fast object instead (about 30 B empty, a
 * few words per event once listened to, its shape shared by every connection whose listeners
 * were added in the same order), as Node's streams do for theirs. Its prototype chain has no
 * properties at all (unlike a plain literal's `Object.prototype`), so no event name finds an
 * inherited function; an undefined entry is no listener to EventEmitter. When the last listener
 * goes, EventEmitter puts back a literal of its own: only memory differs, never behaviour.
 * @module
 */

/** Makes a listener table; see {@link listenerTable}. */
export type ListenerTableConstructor = new () => object;

/**
 * A constructor of listener tables with `declared` events as empty entries: in-object slots for
 * the events nearly every instance is listened to on (an emitter with such a table filters
 * `eventNames()`, see {@link namesWithListeners}). Make one per emitter class, at module load:
 * each gets its own V8 shape.
 */
export function listenerTable(declared: readonly string[] = []): ListenerTableConstructor {
  const Table = function ListenerTable(this: Record<string, undefined>) {
    for (let i = 0; i < declared.length; i++) this[declared[i] as string] = undefined;
  } as unknown as ListenerTableConstructor;
  Table.prototype = Object.create(null);
  return Table;
}

/**
 * Gives `emitter`, an EventEmitter just constructed (no listener yet), a table made by `Table`.
 * Typed `object`: the typed emitters' listener signatures are not EventEmitter's.
 */
export function useListenerTable(emitter: object, Table: ListenerTableConstructor): void {
  (emitter as unknown as { _events: object })._events = new Table();
}

/** The events of `emitter` that have listeners, for a table with declared (empty) entries. */
export function namesWithListeners(emitter: object): (string | symbol)[] {
  const events = (emitter as unknown as { _events: Record<string | symbol, unknown> })._events;
  return Reflect.ownKeys(events).filter((name) => events[name] !== undefined);
}

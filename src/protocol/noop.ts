/**
 * The one do-nothing function: a default callback, a swallowing `error` listener or a
 * `then(noop)`, shared so that no module allocates its own.
 * @module
 */

/** Does nothing. */
export function noop(): void {}

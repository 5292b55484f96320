/**
 * Timers of the Manager and Socket (reconnection delays, acknowledgement timeouts): the engine's
 * injectable {@link EngineTimers}, so one test clock drives the whole client.
 */
import type { EngineTimers, TimerHandle } from "./engine/options.js";

export { type EngineTimers, GLOBAL_TIMERS, type TimerHandle } from "./engine/options.js";

/** Lets a Node timer not keep the process alive (no-op in browsers, whose handles are numbers). */
function unrefTimer(handle: TimerHandle): void {
  const unref = (handle as { unref?: unknown } | null)?.unref;
  if (typeof unref === "function") unref.call(handle);
}

/** `timers` whose timers do not keep a Node process alive (socket.io-client's `autoUnref`). */
export function unreferencedTimers(timers: EngineTimers): EngineTimers {
  return {
    setTimeout: (callback, ms) => {
      const handle = timers.setTimeout(callback, ms);
      unrefTimer(handle);
      return handle;
    },
    clearTimeout: (handle) => timers.clearTimeout(handle),
    now: () => timers.now(),
  };
}

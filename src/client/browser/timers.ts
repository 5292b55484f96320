/**
 * `src/client/timers.ts` in the browser bundles: a browser's timer handles are numbers that keep
 * nothing alive, so `autoUnref` (socket.io-client's Node option) leaves the timers as they are.
 * @module
 */
import type { EngineTimers } from "../engine/options.js";

export { type EngineTimers, GLOBAL_TIMERS, type TimerHandle } from "../engine/options.js";

/** `timers` unchanged: nothing to unreference in a browser. */
export function unreferencedTimers(timers: EngineTimers): EngineTimers {
  return timers;
}

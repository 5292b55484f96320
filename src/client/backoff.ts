/**
 * Exponential backoff with jitter, the algorithm socket.io-client uses between reconnection
 * attempts: attempt n (from 0) waits `min * factor^n`, moved up or down by a random part of
 * itself (at most `jitter` of it), then capped at `max`.
 * @module
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay in milliseconds (socket.io-client's `reconnectionDelay`). Default 100. */
  min?: number;
  /** Largest delay in milliseconds (`reconnectionDelayMax`). Default 10000. */
  max?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * Share of the delay that is randomised (`randomizationFactor`), in (0, 1]; anything else
   * means no jitter. Default 0.
   */
  jitter?: number;
  /** Source of uniform numbers in [0, 1). Default `Math.random`. Injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff. `duration()` returns the next delay and counts an attempt; `reset()`
 * starts over (after a successful connection).
 */
export class Backoff {
  /** Attempts counted since the last reset. */
  attempts = 0;
  // `declare`d fields are set by the constructor: no separate field definitions in the bundle.
  /** First delay in milliseconds; a change applies from the next `duration()`. */
  declare min: number;
  /** Largest delay in milliseconds; a change applies from the next `duration()`. */
  declare max: number;
  /** Randomised share of each delay, in (0, 1]; anything else means no jitter. */
  declare jitter: number;
  readonly #factor: number;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.min = options.min ?? 100;
    this.max = options.max ?? 10000;
    this.#factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt, in whole milliseconds; counts the attempt. */
  duration(): number {
    let ms = this.min * this.#factor ** this.attempts++;
    const jitter = this.jitter;
    if (jitter > 0 && jitter <= 1) {
      const rand = this.#random();
      const deviation = Math.floor(rand * jitter * ms);
      // One random draw decides both the size and (through its first decimal's parity) the
      // direction, as socket.io-client does, so seeded runs give the same delays as it.
      ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    }
    // After enough attempts the product overflows to Infinity (and Infinity - Infinity is NaN):
    // such a delay is simply the cap (NaN < max is false too).
    // biome-ignore lint/complexity/useMathMinMax: Math.min would give NaN for a NaN delay
    return Math.trunc(ms < this.max ? ms : this.max);
  }

  /** Starts counting attempts from zero again. */
  reset(): void {
    this.attempts = 0;
  }
}

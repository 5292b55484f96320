/**
 * A token bucket: each socket may send a burst of `capacity` messages, then `refillPerSecond`
 * more per second. Chat servers need this because one misbehaving page (or a script in the
 * console) could otherwise make the server broadcast thousands of messages a second to everyone.
 *
 * The clock is injectable so tests can move time without waiting, and nothing runs in the
 * background: tokens are refilled lazily, from the time elapsed since the last call.
 * @module
 */

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the largest burst allowed (at least 1). */
  capacity: number;
  /** Tokens added per second, up to `capacity` (greater than 0). */
  refillPerSecond: number;
  /** Milliseconds from any fixed origin (default `performance.now`, which never goes back). */
  now?: () => number;
}

/** A token bucket; see the module comment. */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  /** @throws RangeError for a capacity below 1 or a refill rate that is not positive. */
  constructor(options: TokenBucketOptions) {
    if (!(options.capacity >= 1)) throw new RangeError("capacity must be at least 1");
    if (!(options.refillPerSecond > 0) || !Number.isFinite(options.refillPerSecond)) {
      throw new RangeError("refillPerSecond must be a positive number");
    }
    this.#capacity = options.capacity;
    this.#refillPerMs = options.refillPerSecond / 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = options.capacity;
    this.#updatedAt = this.#now();
  }

  /** Takes one token if there is one; false means "over the limit, refuse this message". */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is available now). */
  msUntilNextToken(): number {
    this.#refill();
    if (this.#tokens >= 1) return 0;
    // The tolerance keeps floating-point dust (1.0000000000000009 ms) from adding a millisecond.
    return Math.ceil((1 - this.#tokens) / this.#refillPerMs - 1e-9);
  }

  #refill(): void {
    const now = this.#now();
    // A clock that went back (a test's, or a wall clock) must not take tokens away.
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#refillPerMs);
  }
}

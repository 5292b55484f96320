/**
 * A bounded FIFO job runner. permessage-deflate shares one per process so that thousands of
 * sockets compressing at once queue up instead of each holding zlib buffers in flight.
 * @module
 */

/**
 * A job as a function. It receives `done` and must call it exactly once, when its work (sync or
 * async) is over; `done` is shared by all jobs, so calling it twice frees someone else's slot.
 */
export type LimitedJob = (done: () => void) => void;

/**
 * A job as an object, for callers that schedule the same object many times and want no
 * allocation per job. Same rule: `run` calls `done` exactly once.
 */
export interface LimitedTask {
  run(done: () => void): void;
}

/** Above this many consumed entries the queue array is compacted (keeps `add` O(1) amortized). */
const COMPACT_AFTER = 1024;

/**
 * Runs at most `concurrency` jobs at a time, in the order they were added.
 * Jobs must not throw: an exception propagates to whoever called `add` or `done`.
 */
export class ConcurrencyLimiter {
  /** Jobs allowed to run at once. */
  readonly concurrency: number;

  #runningCount = 0;
  readonly #queue: (LimitedJob | LimitedTask | undefined)[] = [];
  #head = 0;
  /** True while `drain` loops, so a job finishing synchronously does not recurse into it. */
  #draining = false;
  /** One function for every job: no closure per job on the hot path. */
  readonly #done = (): void => {
    this.#runningCount--;
    if (!this.#draining) this.#drain();
  };

  /** @param concurrency jobs allowed to run at once, an integer >= 1 (default 10). */
  constructor(concurrency = 10) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
    }
    this.concurrency = concurrency;
  }

  /** Jobs started and not done yet. */
  get running(): number {
    return this.#runningCount;
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues `job`; it starts at once (synchronously) when a slot is free and nothing waits. */
  add(job: LimitedJob | LimitedTask): void {
    this.#queue.push(job);
    if (!this.#draining) this.#drain();
  }

  #drain(): void {
    this.#draining = true;
    try {
      const queue = this.#queue;
      while (this.#runningCount < this.concurrency && this.#head < queue.length) {
        const job = queue[this.#head]!;
        queue[this.#head++] = undefined;
        this.#runningCount++;
        if (typeof job === "function") job(this.#done);
        else job.run(this.#done);
      }
      if (this.#head === queue.length) {
        queue.length = 0;
        this.#head = 0;
      } else if (this.#head > COMPACT_AFTER && this.#head * 2 > queue.length) {
        queue.splice(0, this.#head);
        this.#head = 0;
      }
    } finally {
      this.#draining = false;
    }
  }
}

/**
 * A shared, coarse timer wheel: the one home for per-connection deadlines (heartbeats, ping
 * timeouts, upgrade and connect timeouts, close timeouts). Ten thousand connections then cost
 * one unref'd Node.js interval instead of ten thousand `Timeout` objects and closures, and
 * scheduling or cancelling a deadline is O(1): unlink from one doubly linked slot list, link
 * into another.
 *
 * Deadlines fire late by at most one tick, never early. An entry is a {@link WheelTimer}
 * subclass whose `onTimeout` does the work: the owner keeps one such object per deadline kind
 * and re-arms it, so nothing is allocated per schedule.
 * @module
 */

import { performance } from "node:perf_hooks";

/** Options of {@link TimerWheel}. */
export interface TimerWheelOptions {
  /** Milliseconds per tick: how late a deadline may fire (default 100). */
  tick?: number;
  /** Slots of the wheel (default 512): one turn covers `tick * slots` ms. */
  slots?: number;
  /** Milliseconds of a monotonic clock (default `performance.now`); tests inject their own. */
  now?: () => number;
  /**
   * Whether the wheel runs its own interval while it holds timers (default true). Tests that
   * inject a clock turn it off and call {@link TimerWheel.advance}.
   */
  autoAdvance?: boolean;
}

/** Default of {@link TimerWheelOptions.tick}. */
export const DEFAULT_WHEEL_TICK = 100;
const DEFAULT_SLOTS = 512;

/**
 * One deadline on a wheel: subclass it with `onTimeout`, then `schedule(ms)` and `cancel()` as
 * often as needed.
 */
export abstract class WheelTimer {
  /** The wheel this timer runs on. */
  readonly wheel: TimerWheel;
  /** @internal When it is due, on the wheel's clock. */
  dueAt = 0;
  /** @internal The slot it is linked into; -1 when not scheduled, -2 while due to fire. */
  slot = -1;
  /** @internal Slot list links. */
  prev: WheelTimer | null = null;
  /** @internal Slot list links. */
  next: WheelTimer | null = null;

  constructor(wheel: TimerWheel) {
    this.wheel = wheel;
  }

  /** Called once the deadline has passed (the timer is no longer scheduled by then). */
  abstract onTimeout(): void;

  /** Whether the timer is scheduled. */
  get scheduled(): boolean {
    return this.slot >= 0;
  }

  /** (Re)schedules the timer `delay` ms from now, replacing any earlier schedule. */
  schedule(delay: number): void {
    this.wheel._add(this, delay);
  }

  /** Unschedules the timer, even one found due in this very tick but not fired yet. */
  cancel(): void {
    if (this.slot >= 0) this.wheel._remove(this);
    else this.slot = -1;
  }
}

/** A wheel of slots, each a list of the timers due within that tick of the current turn. */
export class TimerWheel {
  readonly #tick: number;
  readonly #slots: (WheelTimer | null)[];
  readonly #now: () => number;
  readonly #autoAdvance: boolean;
  /** The last tick processed. */
  #cursor: number;
  #count = 0;
  #interval: NodeJS.Timeout | null = null;

  /** @throws RangeError for a tick or a slot count that is not a positive integer. */
  constructor(options: TimerWheelOptions = {}) {
    const tick = options.tick ?? DEFAULT_WHEEL_TICK;
    const slots = options.slots ?? DEFAULT_SLOTS;
    if (!(Number.isFinite(tick) && tick > 0)) {
      throw new RangeError(`tick must be a positive number, got ${String(tick)}`);
    }
    if (!(Number.isInteger(slots) && slots > 0)) {
      throw new RangeError(`slots must be a positive integer, got ${String(slots)}`);
    }
    this.#tick = tick;
    this.#slots = new Array<WheelTimer | null>(slots).fill(null);
    this.#now = options.now ?? (() => performance.now());
    this.#autoAdvance = options.autoAdvance ?? true;
    this.#cursor = Math.floor(this.#now() / tick);
  }

  /** Milliseconds per tick. */
  get tick(): number {
    return this.#tick;
  }

  /** Timers scheduled. */
  get size(): number {
    return this.#count;
  }

  /** @internal Use {@link WheelTimer.schedule}. */
  _add(timer: WheelTimer, delay: number): void {
    if (timer.slot >= 0) this._remove(timer);
    const dueAt = this.#now() + Math.max(0, delay);
    // The first tick that ends at or after the deadline, and after the last one processed.
    const tick = Math.max(Math.ceil(dueAt / this.#tick), this.#cursor + 1);
    const slot = tick % this.#slots.length;
    timer.dueAt = dueAt;
    timer.slot = slot;
    const head = this.#slots[slot] ?? null;
    timer.prev = null;
    timer.next = head;
    if (head !== null) head.prev = timer;
    this.#slots[slot] = timer;
    if (++this.#count === 1 && this.#autoAdvance) this.#start();
  }

  /** @internal Use {@link WheelTimer.cancel}. */
  _remove(timer: WheelTimer): void {
    const { prev, next } = timer;
    if (prev !== null) prev.next = next;
    else this.#slots[timer.slot] = next;
    if (next !== null) next.prev = prev;
    timer.prev = null;
    timer.next = null;
    timer.slot = -1;
    if (--this.#count === 0) this.#stop();
  }

  /**
   * Fires every timer whose deadline has passed (the wheel's interval calls this each tick).
   * Timers are unlinked before their `onTimeout` runs, so a callback may reschedule its timer.
   */
  advance(): void {
    const now = this.#now();
    const last = Math.floor(now / this.#tick);
    const slots = this.#slots.length;
    // A late wake-up that missed more than a turn visits each slot once.
    const first = Math.max(this.#cursor + 1, last - slots + 1);
    let due: WheelTimer | null = null;
    for (let tick = first; tick <= last; tick++) {
      let timer = this.#slots[tick % slots] ?? null;
      while (timer !== null) {
        const next: WheelTimer | null = timer.next;
        if (timer.dueAt <= now) {
          this._remove(timer);
          // Collected through `next` (free once unlinked), fired after the walk unless an
          // earlier callback cancels or reschedules it.
          timer.slot = -2;
          timer.next = due;
          due = timer;
        }
        timer = next;
      }
    }
    this.#cursor = Math.max(this.#cursor, last);
    while (due !== null) {
      const timer: WheelTimer = due;
      due = timer.next;
      timer.next = null;
      if (timer.slot === -2) {
        timer.slot = -1;
        timer.onTimeout();
      }
    }
  }

  #start(): void {
    if (this.#interval !== null) return;
    // Ticks missed while the wheel was empty hold nothing: processing resumes from now.
    this.#cursor = Math.max(this.#cursor, Math.floor(this.#now() / this.#tick) - 1);
    this.#interval = setInterval(() => this.advance(), this.#tick);
    // Deadlines never keep a process alive: their connections do, while they matter.
    this.#interval.unref();
  }

  #stop(): void {
    if (this.#interval === null) return;
    clearInterval(this.#interval);
    this.#interval = null;
  }
}

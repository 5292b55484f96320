import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TimerWheel, WheelTimer } from "../../src/websocket/timer-wheel.js";

/** A wheel on a clock the test moves by hand. */
function manualWheel(tick = 10, slots = 8): { wheel: TimerWheel; advanceTo(ms: number): void } {
  let now = 0;
  const wheel = new TimerWheel({ tick, slots, now: () => now, autoAdvance: false });
  return {
    wheel,
    advanceTo(ms: number) {
      now = ms;
      wheel.advance();
    },
  };
}

class Recorder extends WheelTimer {
  fired: number[] = [];
  constructor(
    wheel: TimerWheel,
    readonly clock: () => number,
    readonly onFire?: (timer: Recorder) => void,
  ) {
    super(wheel);
  }
  onTimeout(): void {
    this.fired.push(this.clock());
    this.onFire?.(this);
  }
}

describe("TimerWheel", () => {
  it("fires each deadline once, never early and at most a tick late", () => {
    let time = 0;
    const { wheel, advanceTo } = manualWheel();
    const clock = () => time;
    const timers = [5, 10, 23, 79, 80, 81, 300].map((delay) => {
      const timer = new Recorder(wheel, clock);
      timer.schedule(delay);
      return { timer, delay };
    });
    assert.equal(wheel.size, 7);
    for (time = 1; time <= 400; time++) advanceTo(time);
    for (const { timer, delay } of timers) {
      assert.equal(timer.fired.length, 1, `delay ${delay}`);
      const at = timer.fired[0]!;
      assert.ok(at >= delay && at <= delay + wheel.tick, `delay ${delay} fired at ${at}`);
    }
    assert.equal(wheel.size, 0);
  });

  it("fires what a late wake-up missed, even more than a turn of the wheel late", () => {
    const { wheel, advanceTo } = manualWheel(10, 4);
    const early = new Recorder(wheel, () => 0);
    const far = new Recorder(wheel, () => 0);
    early.schedule(15);
    far.schedule(1000);
    advanceTo(500);
    assert.equal(early.fired.length, 1);
    assert.equal(far.fired.length, 0);
    assert.ok(far.scheduled);
    advanceTo(1010);
    assert.equal(far.fired.length, 1);
  });

  it("cancels and reschedules in O(1), from callbacks too", () => {
    const { wheel, advanceTo } = manualWheel();
    const a = new Recorder(wheel, () => 0);
    const b = new Recorder(wheel, () => 0);
    // Both due in the same tick: a's callback cancels b, which must then not fire.
    const canceller = new Recorder(
      wheel,
      () => 0,
      () => b.cancel(),
    );
    canceller.schedule(20);
    b.schedule(20);
    a.schedule(20);
    a.schedule(50); // replaces the first schedule
    advanceTo(30);
    assert.deepEqual([canceller.fired.length, b.fired.length, a.fired.length], [1, 0, 0]);
    // A callback that reschedules its own timer.
    let runs = 0;
    const repeating = new Recorder(
      wheel,
      () => 0,
      (timer) => {
        if (++runs < 3) timer.schedule(10);
      },
    );
    repeating.schedule(10);
    for (let t = 40; t <= 200; t += 10) advanceTo(t);
    assert.equal(runs, 3);
    assert.equal(a.fired.length, 1);
    assert.equal(wheel.size, 0);
    a.cancel(); // not scheduled: nothing happens
    assert.equal(a.scheduled, false);
  });

  it("runs one unref'd interval only while it holds timers", async () => {
    const wheel = new TimerWheel({ tick: 5 });
    const fired: number[] = [];
    class Once extends WheelTimer {
      onTimeout(): void {
        fired.push(1);
      }
    }
    const timer = new Once(wheel);
    timer.schedule(10);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(fired, [1]);
    assert.equal(wheel.size, 0);
  });

  it("refuses a nonsensical tick or slot count", () => {
    assert.throws(() => new TimerWheel({ tick: 0 }), RangeError);
    assert.throws(() => new TimerWheel({ slots: 1.5 }), RangeError);
  });
});

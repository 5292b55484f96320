import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConcurrencyLimiter, type LimitedTask } from "../../src/websocket/concurrency-limiter.js";

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe("ConcurrencyLimiter", () => {
  it("defaults to 10 and rejects a concurrency that is not an integer >= 1", () => {
    assert.equal(new ConcurrencyLimiter().concurrency, 10);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new ConcurrencyLimiter(bad), RangeError);
    }
  });

  it("never runs more than N async jobs at once and starts them in FIFO order", async () => {
    const limiter = new ConcurrencyLimiter(3);
    const started: number[] = [];
    const finished: number[] = [];
    let active = 0;
    let maxActive = 0;
    const all: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      all.push(
        new Promise<void>((resolve) => {
          limiter.add((done) => {
            started.push(i);
            active++;
            maxActive = Math.max(maxActive, active);
            assert.ok(limiter.running <= 3);
            // Uneven durations (1 to 4 turns) so slots free up out of order.
            let turns = 1 + (i % 4);
            const step = (): void => {
              if (--turns > 0) {
                setImmediate(step);
                return;
              }
              active--;
              finished.push(i);
              done();
              resolve();
            };
            setImmediate(step);
          });
        }),
      );
    }
    assert.equal(limiter.running, 3);
    assert.equal(limiter.pending, 37);
    await Promise.all(all);
    assert.equal(maxActive, 3);
    assert.deepEqual(
      started,
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.notDeepEqual(finished, started, "durations differ, so completion order differs");
    assert.equal(limiter.running, 0);
    assert.equal(limiter.pending, 0);
  });

  it("handles jobs that finish synchronously without recursion, in order", () => {
    const limiter = new ConcurrencyLimiter(2);
    const order: number[] = [];
    const count = 100_000; // deep enough to overflow the stack if done() recursed into drain
    for (let i = 0; i < count; i++) {
      limiter.add((done) => {
        order.push(i);
        done();
      });
    }
    assert.equal(order.length, count);
    for (let i = 0; i < count; i++) assert.equal(order[i], i);
    assert.equal(limiter.running, 0);
  });

  it("runs task objects and jobs added from inside a job", async () => {
    const limiter = new ConcurrencyLimiter(1);
    const order: string[] = [];
    let release: (() => void) | null = null;
    const task: LimitedTask = {
      run(done) {
        order.push("task");
        release = done;
      },
    };
    limiter.add(task);
    limiter.add((done) => {
      order.push("second");
      limiter.add((innerDone) => {
        order.push("added-inside");
        innerDone();
      });
      done();
    });
    assert.deepEqual(order, ["task"]);
    assert.equal(limiter.pending, 1);
    await nextImmediate();
    assert.deepEqual(order, ["task"], "a slot stays taken until done() is called");
    release!();
    assert.deepEqual(order, ["task", "second", "added-inside"]);
    assert.equal(limiter.running, 0);
    assert.equal(limiter.pending, 0);
  });

  it("keeps FIFO order across queue compaction with many waiting jobs", async () => {
    const limiter = new ConcurrencyLimiter(1);
    const order: number[] = [];
    const releases: (() => void)[] = [];
    for (let i = 0; i < 5000; i++) {
      limiter.add((done) => {
        order.push(i);
        releases.push(done);
      });
    }
    // Release one job per turn: the queue is consumed from the head while it is long.
    for (let i = 0; i < 5000; i++) {
      assert.equal(limiter.running, 1);
      releases[i]();
      if (i % 1000 === 0) await nextImmediate();
    }
    assert.equal(order.length, 5000);
    for (let i = 0; i < 5000; i++) assert.equal(order[i], i);
    assert.equal(limiter.pending, 0);
  });
});

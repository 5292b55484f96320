/** The token bucket behind the demo's rate limits, on a hand-driven clock. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBucket } from "../../src/demo/rate-limit.js";

function bucket(capacity: number, refillPerSecond: number) {
  const clock = { ms: 1000 };
  return { clock, bucket: new TokenBucket({ capacity, refillPerSecond, now: () => clock.ms }) };
}

describe("TokenBucket", () => {
  it("allows a burst of `capacity`, then refuses", () => {
    const { bucket: b } = bucket(3, 1);
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.tryTake()),
      [true, true, true, false, false],
    );
  });

  it("refills at the given rate, up to the capacity", () => {
    const { clock, bucket: b } = bucket(2, 4); // one token per 250 ms
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    assert.equal(b.msUntilNextToken(), 250);
    clock.ms += 249;
    assert.equal(b.tryTake(), false);
    assert.equal(b.msUntilNextToken(), 1);
    clock.ms += 1;
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    // A long pause fills it to the capacity only.
    clock.ms += 60_000;
    assert.equal(b.msUntilNextToken(), 0);
    assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake()], [true, true, false]);
  });

  it("does not lose tokens when the clock goes back", () => {
    const { clock, bucket: b } = bucket(1, 1);
    assert.equal(b.tryTake(), true);
    clock.ms -= 10_000;
    assert.equal(b.tryTake(), false);
    clock.ms += 1000;
    assert.equal(b.tryTake(), true);
  });

  it("rejects settings that would never let anything through", () => {
    assert.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ capacity: Number.NaN, refillPerSecond: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ capacity: 1, refillPerSecond: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ capacity: 1, refillPerSecond: Infinity }), RangeError);
  });

  it("uses a monotonic clock by default", () => {
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    assert.ok(b.msUntilNextToken() > 0 && b.msUntilNextToken() <= 1000);
  });
});

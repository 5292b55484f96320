/**
 * Backoff: socket.io-client's algorithm, checked against socket.io-client's own implementation
 * fed the same random numbers, plus the edges (cap, reset, overflow, invalid jitter).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Backoff } from "../../src/client/backoff.js";

interface ReferenceBackoff {
  attempts: number;
  duration(): number;
  reset(): void;
}

// socket.io-client's own backoff (its package exports do not expose it: load the file).
const reference = createRequire(import.meta.url)(
  fileURLToPath(
    new URL("../../node_modules/socket.io-client/build/cjs/contrib/backo2.js", import.meta.url),
  ),
) as {
  Backoff: new (options: {
    min?: number;
    max?: number;
    jitter?: number;
    factor?: number;
  }) => ReferenceBackoff;
};

/** A deterministic sequence of numbers in [0, 1). */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("Backoff", () => {
  it("gives the same delays as socket.io-client for the same random numbers", () => {
    const settings = [
      { min: 1000, max: 5000, jitter: 0.5 },
      { min: 100, max: 10000, jitter: 1 },
      { min: 250, max: 60000, jitter: 0.2, factor: 3 },
      { min: 1000, max: 5000, jitter: 0 },
    ];
    const realRandom = Math.random;
    try {
      for (const options of settings) {
        for (let seed = 1; seed <= 20; seed++) {
          const ours = new Backoff({ ...options, random: sequence(seed) });
          Math.random = sequence(seed);
          const theirs = new reference.Backoff(options);
          for (let attempt = 0; attempt < 12; attempt++) {
            assert.equal(
              ours.duration(),
              theirs.duration(),
              JSON.stringify({ options, seed, attempt }),
            );
          }
          assert.equal(ours.attempts, 12);
        }
      }
    } finally {
      Math.random = realRandom;
    }
  });

  it("without jitter: min, doubling, capped at max; reset starts over", () => {
    const backoff = new Backoff({ min: 100, max: 1000 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => backoff.duration()),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(backoff.attempts, 6);
    backoff.reset();
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.duration(), 100);
  });

  it("defaults: min 100, max 10000, factor 2, no jitter", () => {
    const backoff = new Backoff();
    assert.deepEqual(
      Array.from({ length: 9 }, () => backoff.duration()),
      [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000],
    );
  });

  it("jitter moves the delay by at most its share, both ways, by one draw's parity", () => {
    // 0.25: first decimal 2 (even) -> down by floor(0.25 * 0.5 * 1000) = 125.
    assert.equal(
      new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => 0.25 }).duration(),
      875,
    );
    // 0.35: first decimal 3 (odd) -> up by floor(0.35 * 0.5 * 1000) = 175.
    assert.equal(
      new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => 0.35 }).duration(),
      1175,
    );
    const random = sequence(7);
    const backoff = new Backoff({ min: 1000, max: 100000, jitter: 0.5, random });
    for (let attempt = 0; attempt < 6; attempt++) {
      const base = 1000 * 2 ** attempt;
      const delay = backoff.duration();
      assert.ok(delay >= base * 0.5 && delay <= base * 1.5, `${delay} around ${base}`);
    }
  });

  it("out-of-range jitter means none; changed settings apply to the next duration", () => {
    for (const jitter of [-1, 0, 1.5, Number.NaN]) {
      const backoff = new Backoff({ min: 100, jitter, random: () => 0.99 });
      assert.equal(backoff.duration(), 100);
    }
    const backoff = new Backoff({ min: 100, max: 1000, random: () => 0.35 });
    backoff.min = 300;
    backoff.max = 400;
    assert.equal(backoff.duration(), 300);
    backoff.jitter = 0.5;
    assert.equal(backoff.duration(), 400);
  });

  it("thousands of attempts never give NaN, a negative or an over-the-cap delay", () => {
    for (const random of [() => 0, () => 0.5, () => 0.999999]) {
      const backoff = new Backoff({ min: 1000, max: 5000, jitter: 0.5, random });
      for (let attempt = 0; attempt < 3000; attempt++) {
        const delay = backoff.duration();
        assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= 5000, `${attempt}: ${delay}`);
      }
    }
    const large = new Backoff({ min: 1000, max: 2 ** 40 });
    for (let attempt = 0; attempt < 60; attempt++) assert.ok(large.duration() > 0);
  });
});

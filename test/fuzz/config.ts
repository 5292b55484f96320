/**
 * Shared settings of the fuzz suites (test/fuzz): one fixed seed, one run-count multiplier.
 *
 * - `DUPLEXIO_FUZZ_SEED` (integer): the seed of every property (default {@link DEFAULT_SEED}), so
 *   `npm test` is reproducible; the soak script picks a fresh one per campaign.
 * - `DUPLEXIO_FUZZ_RUNS` (number > 0, default 1): multiplies every property's run count (`10`
 *   runs ten times as many cases); `soak.mjs` sets it.
 * - `DUPLEXIO_FUZZ_REPORT` (file path): each property appends `file<TAB>label<TAB>runs<TAB>ms`
 *   there, for the run-count table; nothing is printed otherwise.
 *
 * A failing property fails its test with fast-check's report as the assertion message: the
 * counterexample, the seed and the path that replays it (`fc.assert(property, { seed, path })`).
 */
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { basename } from "node:path";
import fc from "fast-check";

/** The seed `npm test` uses. */
export const DEFAULT_SEED = 0x6475706c; // "dupl"

function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The seed of every property in this run. */
export const FUZZ_SEED = Math.trunc(numberFromEnv("DUPLEXIO_FUZZ_SEED", DEFAULT_SEED)) | 0;

/** Run-count multiplier (1 in `npm test`). */
export const FUZZ_SCALE = numberFromEnv("DUPLEXIO_FUZZ_RUNS", 1);

/** The run count of a property whose `npm test` count is `base` (at most `max`). */
export function runs(base: number, max = Number.POSITIVE_INFINITY): number {
  return Math.min(max, Math.max(1, Math.round(base * FUZZ_SCALE)));
}

function record(file: string, label: string, numRuns: number, ms: number): void {
  const target = process.env.DUPLEXIO_FUZZ_REPORT;
  if (target) {
    appendFileSync(target, `${basename(file)}\t${label}\t${numRuns}\t${Math.round(ms)}\n`);
  }
}

/** Where a property was declared (the calling test file), for the report. */
function callerFile(): string {
  const line = new Error().stack?.split("\n")[3] ?? "";
  return /([^/\\(]+\.test\.ts)/.exec(line)?.[1] ?? "?";
}

/**
 * Runs a synchronous property `runs(baseRuns, maxRuns)` times with the shared seed; a failure
 * fails the test with the counterexample and the seed in the message.
 */
export function fuzz<Ts>(
  label: string,
  property: fc.IProperty<Ts>,
  baseRuns: number,
  maxRuns?: number,
): void {
  const numRuns = runs(baseRuns, maxRuns);
  const file = callerFile();
  const started = performance.now();
  const details = fc.check(property, { seed: FUZZ_SEED, numRuns });
  record(file, label, numRuns, performance.now() - started);
  if (details.failed) fail(label, details);
}

/** Fails the test with fast-check's report (counterexample, seed, path) and the error itself. */
function fail<Ts>(label: string, details: fc.RunDetails<Ts>): never {
  const error = details.errorInstance;
  const cause = error instanceof Error ? (error.stack ?? error.message) : String(error);
  assert.fail(`${label}: ${fc.defaultReportMessage(details)}\nThe property failed with: ${cause}`);
}

/**
 * The asynchronous counterpart of {@link fuzz}, for properties that talk to a server. Shrinking
 * is off (`endOnFailure`): the first failing case is reported as generated, in bounded time.
 */
export async function fuzzAsync<Ts>(
  label: string,
  property: fc.IAsyncProperty<Ts>,
  baseRuns: number,
): Promise<void> {
  const numRuns = runs(baseRuns);
  const file = callerFile();
  const started = performance.now();
  const details = await fc.check(property, { seed: FUZZ_SEED, numRuns, endOnFailure: true });
  record(file, label, numRuns, performance.now() - started);
  if (details.failed) fail(label, details);
}

/** Runs `body` and fails unless it returns within `ms` (a check for super-linear parsing). */
export function assertFast<T>(what: string, ms: number, body: () => T): T {
  const started = performance.now();
  const result = body();
  const took = performance.now() - started;
  assert.ok(took < ms, `${what} took ${took.toFixed(1)} ms (limit ${ms} ms)`);
  return result;
}

/** ArrayBuffer memory (Buffers and typed arrays) in use now, after a full GC when exposed. */
export function arrayBufferBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().arrayBuffers;
}

/** A mutation of a byte or character sequence: what fuzzers do to valid input. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; value: number }
  | { kind: "delete"; at: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number; length: number };

/** Mutations with positions as raw naturals (taken modulo the length when applied). */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
  }),
);

/** Applies `mutations` in order to a copy of `items` (bytes or UTF-16 code units). */
export function mutate(items: readonly number[], mutations: readonly Mutation[]): number[] {
  const out = items.slice();
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    switch (m.kind) {
      case "flip":
        if (at < out.length) out[at] ^= 1 << m.bit;
        break;
      case "set":
        if (at < out.length) out[at] = m.value;
        break;
      case "insert":
        out.splice(at, 0, m.value);
        break;
      case "delete":
        out.splice(at, 1);
        break;
      case "truncate":
        out.length = at;
        break;
      case "duplicate":
        out.splice(at, 0, ...out.slice(at, at + m.length));
        break;
    }
  }
  return out;
}

/** Mutates a byte array. */
export function mutateBytes(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  return Uint8Array.from(mutate(Array.from(bytes), mutations));
}

/** Mutates a string code unit by code unit (`set`/`insert` values become code units 0-255). */
export function mutateString(text: string, mutations: readonly Mutation[]): string {
  const units = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  return String.fromCharCode(...mutate(units, mutations));
}

/** Cut points of a split: raw naturals, taken modulo the length, sorted and deduplicated. */
export const cutsArb: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 12 });

/** `bytes` split at `cuts` (each taken modulo `bytes.length + 1`); copies, so in-place changes stay local. */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    out.push(bytes.slice(start, point));
    start = point;
  }
  out.push(bytes.slice(start));
  return out;
}

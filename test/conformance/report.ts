/** Summaries of case results for the test output, and the assertion that nothing FAILED. */
import assert from "node:assert/strict";
import type { CaseResult } from "./case.js";

/** "OK 40, NON-STRICT 2, ..." */
export function countByBehavior(results: CaseResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.behavior, (counts.get(r.behavior) ?? 0) + 1);
  return [...counts.entries()].map(([behavior, n]) => `${behavior} ${n}`).join(", ");
}

/**
 * Prints a one-line summary plus every case that is not OK, then fails the test if any case
 * FAILED (listing them all, not just the first).
 */
export function assertNoFailures(
  title: string,
  results: CaseResult[],
  log: (line: string) => void,
): void {
  const ms = results.reduce((sum, r) => sum + r.ms, 0);
  log(`${title}: ${results.length} cases in ${ms} ms: ${countByBehavior(results)}`);
  for (const r of results) {
    if (r.behavior !== "OK") log(`  ${r.id} ${r.behavior}: ${r.detail}`);
  }
  const failed = results.filter((r) => r.behavior === "FAILED");
  assert.equal(
    failed.length,
    0,
    `${failed.length} case(s) FAILED:\n${failed.map((r) => `  ${r.id}: ${r.detail}`).join("\n")}`,
  );
}

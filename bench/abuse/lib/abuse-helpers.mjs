// Small helpers shared by the attacks (abuser side) and their summaries (runner side).
import { percentile } from "../../lib/stats.mjs";

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` at once; results in order. */
export async function mapLimit(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** { n, min, p50, max } of a list of numbers (ms), nulls when empty. */
export function spread(values) {
  const sorted = values.filter((v) => typeof v === "number").sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? null,
    p50: percentile(sorted, 0.5),
    max: sorted.at(-1) ?? null,
  };
}

/** Counts of each distinct string, most frequent first, as "text ×n; text ×m". */
export function tally(strings, limit = 3) {
  const counts = new Map();
  for (const s of strings) counts.set(s, (counts.get(s) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted
    .slice(0, limit)
    .map(([s, n]) => (counts.size === 1 && n === 1 ? s : `${s} ×${n}`));
  if (sorted.length > limit) shown.push(`+${sorted.length - limit} other`);
  return shown.join("; ");
}

/** How a TCP connection ended, from the events seen: "FIN", "RST" (ECONNRESET), ... */
export function endingOf({ sawEnd, errorCode }) {
  if (errorCode === "ECONNRESET") return "RST";
  if (errorCode === "EPIPE") return "EPIPE";
  if (errorCode) return errorCode;
  return sawEnd ? "FIN" : "closed";
}

/** The first line of what a peer sent, printable and short ("" when nothing). */
export function firstLine(buffer, max = 60) {
  if (buffer === null || buffer === undefined || buffer.length === 0) return "";
  const text = buffer.toString("latin1", 0, Math.min(buffer.length, 200));
  const line = text.split("\r\n")[0].replace(/[^\x20-\x7e]/g, "?");
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

// Tables and number formats of bench/abuse/run.mjs.

const MIB = 1024 * 1024;

export function mib(bytes) {
  return typeof bytes === "number" && Number.isFinite(bytes)
    ? (bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)
    : "-";
}

export function ms(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "-";
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 10 ? 1 : 0)}`;
}

/** "before → peak → after" in MiB. */
export function triple(before, peak, after) {
  return `${mib(before)} → ${mib(peak)} → ${mib(after)}`;
}

/** The well-behaved client during the attack: p99 / max round trip (ms), and what went wrong. */
export function probeCell(probe) {
  if (probe === null || probe === undefined) return "-";
  if (probe.error) return `probe failed: ${probe.error}`;
  const a = probe.attack;
  const parts = [];
  if (a.n > 0) parts.push(`${ms(a.p99)} / ${ms(a.max)} ms (n=${a.n})`);
  else parts.push("no answer at all");
  if (probe.waitingMs !== null && probe.waitingMs > (a.max ?? 0))
    parts.push(`1 waiting ${ms(probe.waitingMs)}`);
  if (a.failures > 0) parts.push(`${a.failures} failed`);
  if (probe.lost !== null) parts.push(`LOST: ${probe.lost.how}`);
  return parts.join(", ");
}

/** Prints rows (arrays of strings) under headers, columns padded to their widest cell. */
export function printTable(headers, rows) {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)),
  );
  const line = (cells) =>
    cells
      .map((c, i) => String(c ?? "").padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}

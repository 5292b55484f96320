// Aggregation and the printed tables of bench/run.mjs.

/** Distinct labels for the servers list: "ws,ws" becomes "ws" and "ws#2". */
export function labelServers(servers) {
  const seen = new Map();
  return servers.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  });
}

export function formatSize(bytes) {
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** `value` with `digits` decimals, "-" when not a finite number. */
export function fixed(value, digits) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** `value` rounded, with thousands separators, "-" when not a finite number. */
export function grouped(value) {
  return typeof value === "number" && Number.isFinite(value)
    ? Math.round(value).toLocaleString("en-US")
    : "-";
}

/** Other processes above this share of one CPU make a run's figures suspect. */
export const NOISY_OTHER_CPU_PERCENT = 25;

export function isNoisy(run) {
  return (run.result?.otherProcessesCpuPercent ?? 0) > NOISY_OTHER_CPU_PERCENT;
}

/** One line per finished run; "!" marks runs where other processes took a real share of CPU. */
export function formatRunLine(run) {
  const head =
    `${run.label.padEnd(10)} deflate ${run.deflate ? "on " : "off"} ` +
    `${formatSize(run.size).padStart(7)} x${String(run.window).padEnd(2)}`;
  if (run.error !== undefined) return `${head}  FAILED: ${run.error}`;
  const r = run.result;
  return (
    `${head}  ${grouped(r.messagesPerSec).padStart(9)} msg/s ${fixed(r.payloadMBps, 1).padStart(6)} MB/s` +
    `  ${grouped(r.messagesPerServerCpuSecond).padStart(9)} msg/cpu-s` +
    `  p50 ${fixed(r.latencyMs.p50, 1)} p99 ${fixed(r.latencyMs.p99, 1)} ms (n=${r.latencyMs.samples})` +
    `  cpu% server ${fixed(r.server.cpuPercent, 0)} load ${fixed(r.loadCpuPercent, 0)}` +
    ` other ${fixed(r.otherProcessesCpuPercent, 0)}${isNoisy(run) ? "!" : ""}` +
    `  rss ${fixed(r.server.rssMiB, 0)} MiB`
  );
}

/**
 * One row per (deflate, size) cell: for each server, the figures of its best round (highest
 * msg/s), and the ratios of the first server to the second. Best, not median: other processes
 * on the machine only ever slow a run down, so the best round is the one least disturbed.
 */
export function summarize(runs, labels, cells) {
  return cells.map(({ deflate, size }) => {
    const row = {
      deflate,
      size,
      rounds: {},
      noisy: {},
      messagesPerSec: {},
      messagesPerServerCpuSecond: {},
      p99Ms: {},
    };
    for (const label of labels) {
      const ok = runs.filter(
        (r) =>
          r.label === label && r.deflate === deflate && r.size === size && r.error === undefined,
      );
      const best = ok.reduce(
        (a, r) => (a === null || r.result.messagesPerSec > a.result.messagesPerSec ? r : a),
        null,
      );
      row.rounds[label] = ok.length;
      row.noisy[label] = best?.noisy ?? false;
      row.messagesPerSec[label] = best?.result.messagesPerSec ?? null;
      row.messagesPerServerCpuSecond[label] = best?.result.messagesPerServerCpuSecond ?? null;
      row.p99Ms[label] = best?.result.latencyMs.p99 ?? null;
    }
    if (labels.length >= 2) {
      const [a, b] = labels;
      row.ratio = ratio(row.messagesPerSec[a], row.messagesPerSec[b]);
      row.cpuRatio = ratio(row.messagesPerServerCpuSecond[a], row.messagesPerServerCpuSecond[b]);
    }
    return row;
  });
}

function ratio(a, b) {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

export function formatSummary(summary, labels) {
  const ratioHeader = labels.length >= 2 ? `${labels[0]}/${labels[1]}` : "";
  const columns = [
    "deflate",
    "size",
    ...labels.map((l) => `${l} msg/s`),
    ...labels.map((l) => `${l} p99 ms`),
    ...(ratioHeader === "" ? [] : [`ratio ${ratioHeader}`]),
    ...labels.map((l) => `${l} msg/cpu-s`),
    ...(ratioHeader === "" ? [] : ["cpu ratio"]),
  ];
  const rows = summary.map((row) => [
    row.deflate ? "on" : "off",
    formatSize(row.size),
    ...labels.map((l) => `${grouped(row.messagesPerSec[l])}${row.noisy[l] ? "!" : ""}`),
    ...labels.map((l) => fixed(row.p99Ms[l], 1)),
    ...(ratioHeader === "" ? [] : [fixed(row.ratio, 2)]),
    ...labels.map((l) => grouped(row.messagesPerServerCpuSecond[l])),
    ...(ratioHeader === "" ? [] : [fixed(row.cpuRatio, 2)]),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

// Run lines and the summary table of bench/socketio/run.mjs.
import { fixed, formatSize, grouped } from "../lib/report.mjs";

/** "echo 32 B" or "broadcast 32 B x1000". */
export function cellName({ scenario, size, clients }) {
  return scenario === "echo"
    ? `echo ${formatSize(size)}`
    : `broadcast ${formatSize(size)} x${clients}`;
}

/** One line per finished run; "!" marks runs where other processes took a real share of CPU. */
export function formatRunLine(run) {
  const head = `${run.label.padEnd(11)} ${cellName(run).padEnd(22)}`;
  if (run.error !== undefined) return `${head}  FAILED: ${run.error}`;
  const r = run.result;
  const unit = run.scenario === "echo" ? "acks/s" : "deliveries/s";
  const latency = run.scenario === "echo" ? "rtt" : "fan-out";
  return (
    `${head}  ${grouped(r.messagesPerSec).padStart(9)} ${unit}` +
    `  ${grouped(r.messagesPerServerCpuSecond).padStart(9)} /cpu-s` +
    `  ${latency} p50 ${fixed(r.latencyMs.p50, 1)} p99 ${fixed(r.latencyMs.p99, 1)} ms (n=${r.latencyMs.samples})` +
    `  cpu% server ${fixed(r.server.cpuPercent, 0)} load ${fixed(r.loadCpuPercent, 0)}` +
    ` other ${fixed(r.otherProcessesCpuPercent, 0)}${run.noisy ? "!" : ""}` +
    `  rss ${fixed(r.server.rssMiB, 0)} MiB`
  );
}

function ratio(a, b) {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/**
 * One row per cell: for each server, the figures of its best round (highest rate; /cpu-s from
 * the best round with a usable CPU sample) and the ratios of the first server to the second. Best, not median: other processes on the machine
 * only ever slow a run down, so the best round is the one least disturbed.
 */
export function summarize(runs, labels, cells) {
  return cells.map((cell) => {
    const row = {
      ...cell,
      rounds: {},
      noisy: {},
      messagesPerSec: {},
      messagesPerServerCpuSecond: {},
      p50Ms: {},
      p99Ms: {},
    };
    for (const label of labels) {
      const ok = runs.filter(
        (r) => r.label === label && cellName(r) === cellName(cell) && r.error === undefined,
      );
      const fastest = (candidates) =>
        candidates.reduce(
          (a, r) => (a === null || r.result.messagesPerSec > a.result.messagesPerSec ? r : a),
          null,
        );
      const best = fastest(ok);
      // A starved server's CPU sample is void: take /cpu-s from the fastest round that has one.
      const bestCpu = fastest(ok.filter((r) => r.result.messagesPerServerCpuSecond !== null));
      row.rounds[label] = ok.length;
      row.noisy[label] = best?.noisy ?? false;
      row.messagesPerSec[label] = best?.result.messagesPerSec ?? null;
      row.messagesPerServerCpuSecond[label] = bestCpu?.result.messagesPerServerCpuSecond ?? null;
      row.p50Ms[label] = best?.result.latencyMs.p50 ?? null;
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

export function formatSummary(summary, labels) {
  const pair = labels.length >= 2 ? `${labels[0]}/${labels[1]}` : "";
  const columns = [
    "scenario",
    ...labels.map((l) => `${l} /s`),
    ...(pair === "" ? [] : [`ratio ${pair}`]),
    ...labels.map((l) => `${l} p50/p99 ms`),
    ...labels.map((l) => `${l} /cpu-s`),
    ...(pair === "" ? [] : ["cpu ratio"]),
  ];
  const rows = summary.map((row) => [
    cellName(row),
    ...labels.map((l) => `${grouped(row.messagesPerSec[l])}${row.noisy[l] ? "!" : ""}`),
    ...(pair === "" ? [] : [fixed(row.ratio, 2)]),
    ...labels.map((l) => `${fixed(row.p50Ms[l], 1)}/${fixed(row.p99Ms[l], 1)}`),
    ...labels.map((l) => grouped(row.messagesPerServerCpuSecond[l])),
    ...(pair === "" ? [] : [fixed(row.cpuRatio, 2)]),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

// The printed output of bench/run.mjs: one line per run, the table (per cell the median of the
// rounds with min-max, in the columns) and the targets.
import { fixed, grouped } from "./report.mjs";
import { COLUMNS, SERVERS } from "./table.mjs";

function formatValue(value, kind) {
  if (value === null || value === undefined) return "-";
  if (kind === "micros") return `${fixed(value, 2)} us`;
  if (kind === "bytes") return `${grouped(value)} B`;
  return grouped(value);
}

function formatSpread(cell, metric) {
  const s = cell?.[metric.key];
  if (s === null || s === undefined)
    return cell?.error ? `failed: ${cell.error.slice(0, 60)}` : "-";
  const number = (v) => formatValue(v, metric.kind).replace(/ (us|B)$/, "");
  const unit = metric.kind === "micros" ? " us" : metric.kind === "bytes" ? " B" : "";
  const mark = cell.noisyRounds > 0 ? "!" : "";
  if (s.n === 1) return `${number(s.median)}${unit}${mark}`;
  return `${number(s.median)}${unit} (${number(s.min)}-${number(s.max)})${mark}`;
}

const titleOf = (row, options) =>
  typeof row.title === "function" ? row.title(options) : row.title;

/** One line per finished run. */
export function formatCellLine(run, row) {
  const head = `round ${run.round + 1}  ${row.id.padEnd(14)} ${run.server.padEnd(18)}`;
  if (run.error !== undefined) return `${head} FAILED: ${run.error}`;
  const figures = row.metrics
    .map((m) => `${m.label} ${formatValue(run.metrics[m.key], m.kind)}`)
    .join("  ");
  const d = run.detail;
  const other = d.otherProcessesCpuPercent ?? null;
  const extra =
    other === null
      ? ""
      : `  cpu% server ${fixed(d.server?.cpuPercent, 0)} load ${fixed(d.loadCpuPercent ?? d.result?.loadCpuPercent, 0)} other ${fixed(other, 0)}`;
  return `${head} ${figures}${extra}${run.noisy ? "!" : ""}  (${fixed(run.seconds, 0)} s)`;
}

/**
 * The table as Markdown, one line per row and metric, the servers in the columns (a
 * column holding two duplexio servers shows "raw ...; Socket.IO ...").
 */
export function formatTable(rows, summary, bundles, options) {
  const lines = [
    `| workload | ${COLUMNS.join(" | ")} |`,
    `| --- |${COLUMNS.map(() => " --- |").join("")}`,
  ];
  for (const row of rows) {
    for (const [index, metric] of row.metrics.entries()) {
      const name = index === 0 ? titleOf(row, options) : `... ${metric.label}`;
      const columns = COLUMNS.map((column) => {
        const names = row.cells.filter((n) => SERVERS[n].column === column);
        if (names.length === 0) return "";
        return names
          .map((n) => {
            const prefix = names.length > 1 ? `${n.replace(/^duplexio /, "")} ` : "";
            return `${prefix}${formatSpread(summary[row.id][n], metric)}`;
          })
          .join("; ");
      });
      lines.push(`| ${name} | ${columns.join(" | ")} |`);
    }
  }
  const b = bundles;
  lines.push(
    `| client bundle, gzip -9 | ESM ${formatValue(b.duplexio.esm, "bytes")}; IIFE ${formatValue(b.duplexio.iife, "bytes")} | | socket.io-client ESM ${formatValue(b["socket.io"].esm, "bytes")}; IIFE ${formatValue(b["socket.io"].iife, "bytes")} | | |`,
  );
  return lines.join("\n");
}

/** The targets, each with its value from the medians and whether it is met. */
export function formatTargets(targets) {
  const width = Math.max(...targets.map((t) => t.name.length));
  const lines = [
    "targets (from the medians; rate ratios also per server CPU, which other processes sway less):",
  ];
  for (const t of targets) {
    const goal =
      t.atMost !== undefined ? `<= ${t.atMost}` : t.atLeast !== undefined ? `>= ${t.atLeast}` : "";
    const value = t.value === null ? "-" : t.value >= 100 ? grouped(t.value) : fixed(t.value, 2);
    const verdict = t.met === null ? (goal === "" ? "" : "n/a") : t.met ? "met" : "NOT met";
    const perCpu = t.perCpu === null ? "" : `  (per server CPU: ${fixed(t.perCpu, 2)})`;
    lines.push(
      `  ${t.name.padEnd(width)}  ${value.padStart(8)}  ${goal.padEnd(9)} ${verdict.padEnd(7)}${perCpu}`,
    );
  }
  return lines.join("\n");
}

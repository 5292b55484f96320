/**
 * Prometheus' text exposition format (version 0.0.4), written out for the demo's /metrics: `# HELP`
 * and `# TYPE` lines, then one sample per line, label values escaped. It is all the demo needs of
 * a Prometheus client, which therefore is not a dependency of the package.
 * @module
 */

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One sample: its labels (none for an unlabelled metric) and its value. */
export interface PrometheusSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: name, help text, type and the samples read when scraped. */
export interface PrometheusMetric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: readonly PrometheusSample[];
}

/** Help text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A label value: backslash, double quote and line feed escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value as the format writes it (Go's float syntax for the special values). */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** The text of `metrics`, in order, each family's samples after its HELP and TYPE lines. */
export function formatPrometheus(metrics: readonly PrometheusMetric[]): string {
  let text = "";
  for (const metric of metrics) {
    text += `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
    for (const sample of metric.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const labelText =
        labels.length === 0
          ? ""
          : `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
      text += `${metric.name}${labelText} ${formatValue(sample.value)}\n`;
    }
  }
  return text;
}

/**
 * The demo's Prometheus text exposition writer (src/demo/prometheus.ts): the format's line
 * layout, escaping of help texts and label values, and its special values.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../../src/demo/prometheus.js";

it("writes HELP, TYPE and one line per sample, escaping what the format says", () => {
  const text = formatPrometheus([
    {
      name: "demo_total",
      help: 'Back\\slash and\nnewline, "quotes" kept',
      type: "counter",
      samples: [{ value: 3 }],
    },
    {
      name: "demo_gauge",
      help: "Labelled",
      type: "gauge",
      samples: [
        { labels: { room: 'a"b\\c\nd', kind: "x" }, value: 0.5 },
        { labels: { room: "nan" }, value: Number.NaN },
        { labels: { room: "inf" }, value: Number.POSITIVE_INFINITY },
        { labels: { room: "-inf" }, value: Number.NEGATIVE_INFINITY },
      ],
    },
    { name: "demo_empty", help: "No samples", type: "gauge", samples: [] },
  ]);
  assert.equal(
    text,
    [
      '# HELP demo_total Back\\\\slash and\\nnewline, "quotes" kept',
      "# TYPE demo_total counter",
      "demo_total 3",
      "# HELP demo_gauge Labelled",
      "# TYPE demo_gauge gauge",
      'demo_gauge{room="a\\"b\\\\c\\nd",kind="x"} 0.5',
      'demo_gauge{room="nan"} NaN',
      'demo_gauge{room="inf"} +Inf',
      'demo_gauge{room="-inf"} -Inf',
      "# HELP demo_empty No samples",
      "# TYPE demo_empty gauge",
      "",
    ].join("\n"),
  );
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

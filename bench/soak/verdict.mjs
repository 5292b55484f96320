// The soak's verdict, from the samples and the final counts. Margins come from the options
// (see run.mjs --help); "second half" is the samples taken in the second half of the load.

/** Least-squares line through [x, y] points: { slope, intercept }, or null with < 2 points. */
export function linearFit(points) {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function flatness(points) {
  const values = points.map((p) => p[1]);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const fit = linearFit(points);
  return {
    mean,
    min: Math.min(...values),
    max: Math.max(...values),
    rangePercent: ((Math.max(...values) - Math.min(...values)) / mean) * 100,
    slopePerMin: fit?.slope ?? 0,
  };
}

const count = (map) => Object.values(map ?? {}).reduce((a, b) => a + b, 0);
const describe = (map) =>
  Object.entries(map ?? {})
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
const n = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : "?");

export function verdict({
  samples,
  options,
  before,
  after,
  counters,
  serverStats,
  problems,
  leftOver,
}) {
  const lines = [];
  const m = options.margins;
  const halfT = (options.minutes * 60) / 2;
  const second = samples.filter((s) => s.t >= halfT && s.t <= options.minutes * 60 + 1);
  for (const problem of problems) lines.push({ ok: false, text: `run: ${problem}` });
  if (second.length < 3) {
    lines.push({
      ok: false,
      text: `only ${second.length} samples in the second half: no flatness verdict`,
    });
  } else {
    const rss = flatness(second.map((s) => [s.t / 60, s.rssMiB]));
    lines.push({
      ok: Math.abs(rss.slopePerMin) <= m.rssSlopeMiBPerMin && rss.rangePercent <= m.rssRangePercent,
      text:
        `RSS: slope ${rss.slopePerMin >= 0 ? "+" : ""}${rss.slopePerMin.toFixed(2)} MiB/min (≤ ${m.rssSlopeMiBPerMin}), ` +
        `${rss.min.toFixed(0)}-${rss.max.toFixed(0)} MiB, range ${rss.rangePercent.toFixed(0)}% of the mean ${rss.mean.toFixed(0)} MiB (≤ ${m.rssRangePercent}%)`,
      figures: rss,
    });
    const handles = flatness(second.map((s) => [s.t / 60, s.handles]));
    const handleSlopePercent = (handles.slopePerMin / handles.mean) * 100;
    lines.push({
      ok:
        Math.abs(handleSlopePercent) <= m.handleSlopePercentPerMin &&
        handles.rangePercent <= m.handleRangePercent,
      text:
        `active handles: slope ${handles.slopePerMin >= 0 ? "+" : ""}${handles.slopePerMin.toFixed(1)}/min = ${handleSlopePercent.toFixed(1)}% of the mean ${handles.mean.toFixed(0)} per min (≤ ${m.handleSlopePercentPerMin}%), ` +
        `${handles.min}-${handles.max}, range ${handles.rangePercent.toFixed(0)}% (≤ ${m.handleRangePercent}%)`,
      figures: { ...handles, slopePercentPerMin: handleSlopePercent },
    });
    if (options.minutes < 5) {
      lines.push({
        ok: true,
        info: true,
        text: `short run: the second half is ${Math.round(halfT)} s, so slopes are indicative only`,
      });
    }
  }
  if (counters !== null) {
    const s = counters.sio;
    const acksLost = count(s.acksLost);
    lines.push({
      ok: acksLost === 0 && s.acksMismatch === 0 && s.acksOk === s.acksSent,
      text: `Socket.IO acks: ${n(s.acksSent)} sent, ${n(s.acksOk)} came back right, ${acksLost} lost${acksLost ? ` (${describe(s.acksLost)})` : ""}, ${s.acksMismatch} wrong`,
    });
    const r = counters.raw;
    lines.push({
      ok: r.echoesLost === 0 && r.echoesMismatch === 0 && r.echoesOk === r.echoesSent,
      text: `raw WebSocket echoes: ${n(r.echoesSent)} sent, ${n(r.echoesOk)} came back right, ${r.echoesLost} lost, ${r.echoesMismatch} wrong`,
    });
    const serverErrors = count(serverStats?.errors);
    const errorCount =
      count(s.connectErrors) +
      count(s.unexpectedDisconnects) +
      count(r.errors) +
      count(r.unexpectedCloses) +
      serverErrors;
    const detail = [
      ["connect errors", s.connectErrors],
      ["unexpected Socket.IO disconnects", s.unexpectedDisconnects],
      ["raw client errors", r.errors],
      ["unexpected raw closes", r.unexpectedCloses],
      ["server error events", serverStats?.errors],
    ]
      .filter(([, map]) => count(map) > 0)
      .map(([what, map]) => `${what}: ${describe(map)}`)
      .join("; ");
    lines.push({ ok: errorCount === 0, text: `errors: ${errorCount === 0 ? "none" : detail}` });
    lines.push({
      ok: true,
      info: true,
      text:
        `traffic: ${n(s.started)} Socket.IO clients (${s.transports.websocket} WebSocket, ${s.transports.polling} polling, ${s.transports.upgrade} upgrading; ` +
        `${s.cleanLeaves} left cleanly, ${s.abruptLeaves} abruptly), ${n(s.roomMessages)} room messages and ${n(s.ticks)} ticks received; ` +
        `${n(r.started)} raw clients (${r.abruptLeaves} abrupt), ${n(r.news)} news received; ` +
        `slow readers: ${counters.slow.started} started, ${counters.slow.endedByServer} cut by the server (close frame or connection ended) within their 60 s, ${counters.slow.stillOpenAtEnd} still open at their end`,
    });
    if (leftOver !== null && (leftOver.sio > 0 || leftOver.raw > 0)) {
      lines.push({
        ok: false,
        text: `clients still waiting for acks or echoes after the ack timeout: ${leftOver.sio} Socket.IO, ${leftOver.raw} raw`,
      });
    }
  } else {
    lines.push({ ok: false, text: "no final counts from the load process" });
  }
  if (after !== null && before !== null) {
    const released =
      after.engineClients === 0 &&
      after.rawClients === 0 &&
      after.sockets <= before.sockets &&
      after.handles <= before.handles + 2;
    lines.push({
      ok: released,
      text:
        `after the clients left (${(after.releasedAfterMs / 1000).toFixed(1)} s, two GCs): ${after.engineClients} Engine.IO clients, ${after.rawClients} raw clients, ` +
        `${after.sockets} TCP sockets (before the load ${before.sockets}), ${after.handles} handles (before ${before.handles}), ` +
        `RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB (before ${(before.rss / 2 ** 20).toFixed(0)}), heap used ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB (before ${(before.heapUsed / 2 ** 20).toFixed(1)})`,
    });
  } else {
    lines.push({ ok: false, text: "no after-load snapshot (the run stopped early)" });
  }
  return { pass: lines.every((l) => l.ok), lines };
}

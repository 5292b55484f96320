// A hand-written SVG chart of the soak's samples: panels stacked on one time axis (minutes),
// each with its own y axis, the measured half (the verdict's window) shaded, and optional
// fitted lines. No dependency: the SVG is built as text.

const WIDTH = 960;
const PANEL_HEIGHT = 170;
const LEFT = 70;
const RIGHT = 20;
const TOP = 70;
const GAP = 38;
const BOTTOM = 40;

const escapeXml = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

/** Round numbers for an axis from 0 (or min) to max: about `count` ticks. */
function niceTicks(min, max, count = 4) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks = [];
  const start = Math.floor(min / step) * step;
  for (let i = 0; ticks.length === 0 || ticks.at(-1) < max - step * 1e-9; i++) {
    ticks.push(Number((start + i * step).toPrecision(12)));
  }
  return ticks;
}

const label = (v) =>
  Math.abs(v) >= 1000 ? v.toLocaleString("en-US") : String(Number(v.toPrecision(4)));

/**
 * @param {{ title: string, subtitle?: string, xMax: number, shadeFrom?: number,
 *   panels: { title: string, unit: string, series: { name: string, color: string,
 *   points: [number, number][], dash?: string }[] }[] }} chart  x in minutes
 * @returns {string} the SVG document
 */
export function renderChart({ title, subtitle, xMax, shadeFrom, panels }) {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const height = TOP + panels.length * PANEL_HEIGHT + (panels.length - 1) * GAP + BOTTOM;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
  );
  if (subtitle) out.push(`<text x="${LEFT}" y="44" fill="#444">${escapeXml(subtitle)}</text>`);
  const xTicks = niceTicks(0, xMax, Math.min(10, Math.max(2, Math.round(xMax))));
  const xOf = (x) => LEFT + (x / xMax) * plotWidth;
  panels.forEach((panel, index) => {
    const top = TOP + index * (PANEL_HEIGHT + GAP);
    const all = panel.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
    const yMaxData = all.length === 0 ? 1 : Math.max(...all);
    const yTicks = niceTicks(0, yMaxData * 1.08 || 1);
    const yMax = yTicks.at(-1);
    const yOf = (y) => top + PANEL_HEIGHT - (y / yMax) * PANEL_HEIGHT;
    if (shadeFrom !== undefined) {
      out.push(
        `<rect x="${xOf(shadeFrom).toFixed(1)}" y="${top}" width="${(xOf(xMax) - xOf(shadeFrom)).toFixed(1)}" height="${PANEL_HEIGHT}" fill="#eef4ff"/>`,
      );
    }
    for (const t of yTicks) {
      out.push(
        `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${yOf(t).toFixed(1)}" y2="${yOf(t).toFixed(1)}" stroke="#ddd"/>`,
        `<text x="${LEFT - 6}" y="${(yOf(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${label(t)}</text>`,
      );
    }
    for (const t of xTicks) {
      out.push(
        `<line x1="${xOf(t).toFixed(1)}" x2="${xOf(t).toFixed(1)}" y1="${top}" y2="${top + PANEL_HEIGHT}" stroke="#eee"/>`,
      );
      if (index === panels.length - 1) {
        out.push(
          `<text x="${xOf(t).toFixed(1)}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle" fill="#555">${label(t)}</text>`,
        );
      }
    }
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
      `<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)} <tspan font-weight="normal" fill="#555">(${escapeXml(panel.unit)})</tspan></text>`,
    );
    let legendX = LEFT + plotWidth;
    for (const s of [...panel.series].reverse()) {
      const text = escapeXml(s.name);
      const w = 36 + text.length * 6.5;
      legendX -= w;
      out.push(
        `<line x1="${legendX.toFixed(1)}" x2="${(legendX + 18).toFixed(1)}" y1="${top - 12}" y2="${top - 12}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
        `<text x="${(legendX + 22).toFixed(1)}" y="${top - 8}" fill="#333">${text}</text>`,
      );
    }
    for (const s of panel.series) {
      const points = s.points.filter((p) => Number.isFinite(p[1]));
      if (points.length === 0) continue;
      const d = points
        .map((p, i) => `${i === 0 ? "M" : "L"}${xOf(p[0]).toFixed(1)},${yOf(p[1]).toFixed(1)}`)
        .join("");
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dash ? 2 : 1.5}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
      );
    }
  });
  const axisY = TOP + panels.length * PANEL_HEIGHT + (panels.length - 1) * GAP + 32;
  out.push(
    `<text x="${LEFT + plotWidth / 2}" y="${axisY}" text-anchor="middle" fill="#333">minutes since the load started</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}

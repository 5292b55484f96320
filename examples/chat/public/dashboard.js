// The live dashboard: a duplexio client on the "/dashboard" namespace, which the server pushes a
// snapshot of its figures to every second. The chart is drawn on a <canvas> by hand: a chart
// library would weigh more than everything else on the page.

/* global io */

const HISTORY = 60; // points kept for the chart: one per snapshot
const $ = (id) => document.getElementById(id);

/** The last HISTORY snapshots' message rates, oldest first. */
const history = [];

const socket = io("/dashboard");
socket.on("connect", () => setStatus("live", "good"));
socket.on("disconnect", () => setStatus("disconnected — reconnecting…", "bad"));
socket.on("connect_error", () => setStatus("cannot reach the server", "bad"));
socket.on("snapshot", (snapshot) => {
  render(snapshot);
  history.push({ in: snapshot.rates.messagesIn, out: snapshot.rates.messagesOut });
  if (history.length > HISTORY) history.shift();
  drawChart();
});

function render(s) {
  const { clients, rates, totals, memory, eventLoopDelayMs: loop } = s;
  set("clients-total", clients.websocket + clients.polling + clients.plainWebSocket);
  set("clients-websocket", clients.websocket);
  set("clients-polling", clients.polling);
  set("clients-plain", clients.plainWebSocket);
  set("rate-in", rates.messagesIn);
  set("rate-out", rates.messagesOut);
  set("total-in", totals.messagesIn.toLocaleString());
  set("total-out", totals.messagesOut.toLocaleString());
  set("bytes-in", formatBytes(rates.bytesIn));
  set("bytes-out", formatBytes(rates.bytesOut));
  set("bytes-total-in", formatBytes(totals.bytesIn));
  set("bytes-total-out", formatBytes(totals.bytesOut));
  set("memory-rss", formatBytes(memory.rss));
  set("memory-heap", `${formatBytes(memory.heapUsed)} / ${formatBytes(memory.heapTotal)}`);
  set("loop-mean", `${loop.mean.toFixed(2)} ms`);
  set("loop-p99", `${loop.p99.toFixed(2)} ms / ${loop.max.toFixed(2)} ms`);
  set("uptime", formatDuration(s.uptimeSeconds));
  set("updated", `updated ${new Date(s.at).toLocaleTimeString([], { hour12: false })}`);
  renderNamespaces(s.namespaces);
  renderCluster(s.cluster);
}

function renderCluster(cluster) {
  set(
    "cluster-adapter",
    cluster.adapter === "in-memory" ? "one server, in memory" : `${cluster.adapter} adapter`,
  );
  const state = {
    single: ["single server", "idle"],
    up: ["linked", "good"],
    down: ["Redis unreachable", "bad"],
  }[cluster.state];
  $("cluster-state").textContent = state[0];
  $("cluster-state").className = `pill pill-${state[1]}`;
  const { published, received, dropped } = cluster.crossNode;
  set(
    "cluster-traffic",
    cluster.adapter === "in-memory"
      ? "start more servers with --redis to share the chat"
      : `${cluster.nodes.length} servers · cross-server messages: ${published.toLocaleString()} sent, ${received.toLocaleString()} received, ${dropped.toLocaleString()} dropped`,
  );
  const body = $("cluster-nodes");
  body.replaceChildren();
  cluster.nodes.forEach((node, i) => {
    const row = document.createElement("tr");
    const name = i === 0 ? `${node.url} (this one)` : node.url;
    for (const text of [
      name,
      String(node.clients),
      String(node.messagesOutPerSecond),
      formatBytes(node.rss),
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.dataset.node = node.id;
    body.append(row);
  });
}

function renderNamespaces(namespaces) {
  const body = $("namespaces");
  body.replaceChildren();
  for (const nsp of namespaces) {
    const row = document.createElement("tr");
    const rooms =
      nsp.rooms.map((r) => `${r.name} (${r.members})`).join(", ") +
      (nsp.roomCount > nsp.rooms.length ? `, … ${nsp.roomCount - nsp.rooms.length} more` : "");
    for (const text of [nsp.name, String(nsp.sockets), rooms || "—"]) {
      const cell = document.createElement("td");
      cell.textContent = text; // room names come from users: text only
      row.append(cell);
    }
    row.dataset.namespace = nsp.name;
    body.append(row);
  }
}

function drawChart() {
  const canvas = $("chart");
  // Draw at the screen's pixel density so lines stay sharp on high-DPI screens.
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);

  const pad = { left: 40, right: 8, top: 8, bottom: 18 };
  const plotWidth = width - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;
  const peak = Math.max(1, ...history.map((p) => Math.max(p.in, p.out)));
  const top = 4 * gridStep(peak); // four grid steps of a readable size

  // Grid and scale: four horizontal lines labelled with their value.
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#6b7280";
  g.strokeStyle = "#e5e7eb";
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + (plotHeight * i) / 4;
    g.beginPath();
    g.moveTo(pad.left, y);
    g.lineTo(width - pad.right, y);
    g.stroke();
    g.fillText(String(Math.round(top - (top * i) / 4)), 4, y + 4);
  }
  g.fillText("60 s ago", pad.left, height - 4);
  g.fillText("now", width - pad.right - 22, height - 4);

  const x = (i) => pad.left + (plotWidth * (HISTORY - history.length + i)) / (HISTORY - 1);
  const y = (v) => pad.top + plotHeight - (plotHeight * v) / top;
  for (const [key, color] of [
    ["in", "#2563eb"],
    ["out", "#16a34a"],
  ]) {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    history.forEach((point, i) => {
      if (i === 0) g.moveTo(x(i), y(point[key]));
      else g.lineTo(x(i), y(point[key]));
    });
    g.stroke();
  }
}

/** A grid step of 1, 2 or 5 times a power of ten (at least 1), so that 4 steps reach `peak`. */
function gridStep(peak) {
  const raw = Math.max(1, peak / 4);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5]) if (step * magnitude >= raw) return step * magnitude;
  return 10 * magnitude;
}

function set(id, value) {
  $(id).textContent = String(value);
}

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = `pill pill-${kind}`;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

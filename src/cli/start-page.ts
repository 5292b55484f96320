/**
 * The demo page served by `duplexio start`: it uses only the browser's own WebSocket, so it shows
 * the server speaking plain RFC 6455 to a client nobody here wrote.
 */
export const START_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>duplexio</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
  h1 { margin-bottom: 0.2rem; }
  .status { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; background: #eee; }
  .status.open { background: #d7f5dd; } .status.closed { background: #fbdada; }
  form { display: flex; gap: 0.5rem; margin: 1rem 0; }
  input { flex: 1; padding: 0.4rem; font: inherit; }
  button { padding: 0.4rem 0.9rem; font: inherit; }
  #log { list-style: none; padding: 0; border-top: 1px solid #ddd; font-family: ui-monospace, monospace; font-size: 13px; }
  #log li { padding: 0.2rem 0; border-bottom: 1px solid #f0f0f0; }
  .out { color: #1a5fb4; } .in { color: #26a269; } .ev { color: #777; }
</style>
</head>
<body>
<h1>duplexio</h1>
<p>Real-time, full-duplex messaging for TypeScript. This page talks to the server's WebSocket echo
endpoint at <code>/echo</code> with the browser's own <code>WebSocket</code>.</p>
<p>Connection: <span id="status" class="status">connecting</span> <span id="ext"></span></p>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Type a message and press Enter" maxlength="10000">
  <button>Send</button>
  <button type="button" id="toggle">Close</button>
</form>
<ul id="log"></ul>
<script>
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const toggle = document.getElementById("toggle");
  let socket;
  function show(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = new Date().toLocaleTimeString() + "  " + text;
    log.prepend(li);
  }
  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/echo";
    socket = new WebSocket(url);
    status.textContent = "connecting"; status.className = "status";
    socket.onopen = () => {
      status.textContent = "open"; status.className = "status open";
      document.getElementById("ext").textContent = socket.extensions ? "(" + socket.extensions + ")" : "";
      toggle.textContent = "Close";
      show("ev", "open " + url);
    };
    socket.onmessage = (event) => show("in", "← " + event.data);
    socket.onerror = () => show("ev", "error");
    socket.onclose = (event) => {
      status.textContent = "closed"; status.className = "status closed";
      toggle.textContent = "Connect";
      show("ev", "close code=" + event.code + (event.reason ? " reason=" + event.reason : "") + " clean=" + event.wasClean);
    };
  }
  document.getElementById("form").onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (!input.value || socket.readyState !== WebSocket.OPEN) return;
    socket.send(input.value);
    show("out", "→ " + input.value);
    input.value = "";
  };
  toggle.onclick = () => (socket.readyState === WebSocket.OPEN ? socket.close(1000, "bye") : connect());
  connect();
</script>
</body>
</html>
`;

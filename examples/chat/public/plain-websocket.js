// The "plain WebSocket" panel: the browser's own WebSocket API against the server's /ws endpoint
// (duplexio/websocket), no library in between. Each event is logged as it fires, so the life of
// a connection can be watched: open (with the negotiated subprotocol), message, error, close.

const $ = (id) => document.getElementById(id);

/** @type {WebSocket | undefined} */
let ws;

$("ws-url").value = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;

$("ws-connect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000, "reconnecting");
  const protocols = $("ws-protocols")
    .value.split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  try {
    // The second argument lists the subprotocols we speak; the server picks one (or none).
    ws = new WebSocket($("ws-url").value, protocols);
  } catch (error) {
    // A malformed URL or protocol name throws at once (a SyntaxError), before any event.
    log("error", `constructor threw: ${error.message}`);
    return;
  }
  ws.binaryType = "arraybuffer";
  showState();
  log("info", `connecting to ${ws.url} offering [${protocols.join(", ")}]`);
  const socket = ws;
  socket.onopen = () => {
    log("open", `open · subprotocol "${socket.protocol}" · extensions "${socket.extensions}"`);
    $("ws-protocol").textContent = socket.protocol === "" ? "(none)" : socket.protocol;
    showState();
  };
  socket.onmessage = (message) => {
    const data =
      typeof message.data === "string" ? message.data : `${message.data.byteLength} bytes (binary)`;
    log("message", data);
  };
  // The browser tells scripts nothing about why (that would leak network details): the reason,
  // if any, is in the close event that follows, and the details in the developer console.
  socket.onerror = () => log("error", "error (see the close event, and the browser console)");
  socket.onclose = (close) => {
    log(
      "close",
      `close · code ${close.code}${close.reason ? ` · reason "${close.reason}"` : ""} · ${close.wasClean ? "clean" : "not clean"}`,
    );
    showState();
  };
});

$("ws-send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const text = $("ws-text").value;
  ws.send(text);
  log("sent", text);
  $("ws-text").value = "";
});

$("ws-close").addEventListener("click", () => {
  // 1000 = normal closure; the server answers with its own close frame (the closing handshake).
  ws?.close(1000, "bye from the page");
  showState();
});

const STATES = ["connecting", "open", "closing", "closed"];
function showState() {
  const state = ws ? STATES[ws.readyState] : "closed";
  $("ws-state").textContent = state;
  $("ws-close").disabled = state !== "open" && state !== "connecting";
  $("ws-send-form").querySelector("button").disabled = state !== "open";
  if (state === "connecting") $("ws-protocol").textContent = "…";
  // Never opened: nothing was negotiated.
  if (state === "closed" && $("ws-protocol").textContent === "…")
    $("ws-protocol").textContent = "—";
}

function log(kind, text) {
  const item = document.createElement("li");
  item.className = `log-${kind}`;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  const label = document.createElement("strong");
  label.textContent = kind;
  const body = document.createElement("span");
  body.textContent = text; // echoed data is user input: text only
  item.append(time, label, body);
  $("ws-log").prepend(item);
  // Bounded: a chatty connection must not grow the page forever.
  while ($("ws-log").childElementCount > 50) $("ws-log").lastElementChild.remove();
}

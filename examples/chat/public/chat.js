// The chat page: a duplexio (Socket.IO-compatible) client, using only the socket.io-client API.
//
// Two rules run through this file:
// - User data (nicknames, room names, messages) is only ever put in the page with `textContent`,
//   never `innerHTML`, so "<img onerror=...>" shows up as text instead of running.
// - The server decides: it checks every message (length, rate, room) and answers in the
//   acknowledgement; the page shows what it said. The input lets you type more than 500
//   characters on purpose, so the server's refusal can be seen.

/* global io */

const MAX_MESSAGE_LENGTH = 500; // the server's limit, shown in the counter
const TYPING_SEND_EVERY_MS = 2000; // "I am typing" at most this often
const TYPING_SHOWN_FOR_MS = 4000; // someone else's "typing" fades after this

const $ = (id) => document.getElementById(id);

/** @type {ReturnType<typeof io> | undefined} */
let socket;
let me = "";
let activeRoom = "lobby";
let tickCount = 0;
let connectedBefore = false;
/** room -> { list: HTMLElement, members: string[], unread: number, typing: Map<string, number> } */
const rooms = new Map();
/** Message ids already shown: a recovered connection may replay one the page has. */
const shown = new Set();

// --- logging in ---------------------------------------------------------------------------------

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const nickname = $("nickname").value.trim();
  if (nickname === "") return;
  connect(nickname);
});

function connect(nickname) {
  $("login-error").hidden = true;
  setStatus("connecting…", "idle");
  // The nickname travels in the CONNECT packet's `auth`; the server's middleware checks it and
  // refuses the connection (connect_error) when it is not acceptable.
  socket = io({ auth: { nickname } });

  socket.on("connect", () => onConnect());
  socket.on("connect_error", (error) => {
    // A refusal by the middleware is final (socket.active is false); anything else is retried.
    if (!socket.active) {
      $("login-error").textContent = `The server refused: ${error.message}`;
      $("login-error").hidden = false;
      $("login").hidden = false;
      $("chat").hidden = true;
      setStatus("refused", "bad");
      socket = undefined;
    } else {
      setStatus("cannot reach the server", "bad");
    }
  });
  socket.on("disconnect", (reason) => onDisconnect(reason));
  // Reconnection attempts are the Manager's (socket.io), shared by every namespace.
  socket.io.on("reconnect_attempt", (attempt) => {
    showBanner(
      `Connection lost — reconnecting (attempt ${attempt})… Messages you send now are queued and go out on reconnect.`,
      "warn",
    );
  });

  socket.on("welcome", (welcome) => onWelcome(welcome));
  socket.on("message", (message) => addMessage(message, { mine: false }));
  socket.on("presence", ({ room, members }) => {
    const state = rooms.get(room);
    if (!state) return;
    state.members = members;
    renderRooms();
    if (room === activeRoom) renderMembers();
  });
  socket.on("typing", ({ room, nickname, typing }) => onTyping(room, nickname, typing));
  socket.on("tick", ({ at }) => {
    tickCount++;
    const clock = $("clock");
    clock.textContent = `server clock: ${formatTime(at)}`;
    clock.dataset.ticks = String(tickCount);
  });
  socket.on("notice", ({ text }) => showNotice(text));
}

function onConnect() {
  const transport = transportName();
  setStatus(`connected · ${transport}`, "good");
  // socket.io's engine starts with HTTP long-polling and upgrades to WebSocket when it can.
  socket.io.engine.on("upgrade", (t) =>
    setStatus(`connected · ${typeof t === "string" ? t : t.name}`, "good"),
  );
  if (socket.recovered) {
    // Connection state recovery: same socket id, same rooms, and the messages sent while we
    // were away have just been delivered (see the server's connectionStateRecovery option).
    showBanner(
      "Reconnected: session recovered — you kept your rooms and got the messages you missed.",
      "good",
      6000,
    );
  } else if (connectedBefore) {
    showBanner(
      "Reconnected with a new session: messages sent to your rooms while you were away are lost.",
      "warn",
      6000,
    );
  } else {
    hideBanner();
  }
  $("status").dataset.recovered = String(socket.recovered);
  connectedBefore = true;
}

function onDisconnect(reason) {
  setStatus("disconnected", "bad");
  if (reason === "io server disconnect") {
    // The server said goodbye (it is shutting down): the client will not retry by itself.
    showBanner("The server closed the connection. ", "warn", 0, {
      label: "Reconnect",
      action: () => socket.connect(),
    });
  } else if (reason !== "io client disconnect") {
    showBanner(
      `Connection lost (${reason}) — reconnecting… Messages you send now are queued.`,
      "warn",
    );
  }
}

function onWelcome({ nickname, rooms: serverRooms, recovered }) {
  me = nickname;
  $("me").textContent = nickname;
  $("login").hidden = true;
  $("chat").hidden = false;
  for (const room of serverRooms) ensureRoom(room);
  if (!recovered) {
    // A fresh session (first connection, or the server forgot us): rejoin the rooms we had open.
    for (const room of rooms.keys()) {
      if (!serverRooms.includes(room)) joinRoom(room);
    }
  }
  if (!rooms.has(activeRoom)) activeRoom = serverRooms[0] ?? "lobby";
  switchRoom(activeRoom);
}

// --- rooms ----------------------------------------------------------------------------------------

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = $("join-room").value.trim().toLowerCase();
  if (room === "") return;
  joinRoom(room, () => {
    $("join-room").value = "";
    switchRoom(room);
  });
});

function joinRoom(room, onJoined) {
  socket.emit("join", room, (reply) => {
    if (!reply.ok) return showNotice(reply.error);
    ensureRoom(reply.room).members = reply.members;
    renderRooms();
    if (reply.room === activeRoom) renderMembers();
    onJoined?.();
  });
}

$("leave-room").addEventListener("click", () => {
  const room = activeRoom;
  socket.emit("leave", room, (reply) => {
    if (!reply.ok) return showNotice(reply.error);
    rooms.get(room)?.list.remove();
    rooms.delete(room);
    const next = rooms.keys().next();
    if (next.done) {
      joinRoom("lobby", () => switchRoom("lobby"));
    } else {
      switchRoom(next.value);
    }
  });
});

function ensureRoom(room) {
  let state = rooms.get(room);
  if (!state) {
    const list = document.createElement("ol");
    list.className = "message-list";
    list.dataset.room = room;
    list.hidden = true;
    $("messages").append(list);
    state = { list, members: [], unread: 0, typing: new Map() };
    rooms.set(room, state);
    renderRooms();
  }
  return state;
}

function switchRoom(room) {
  const state = ensureRoom(room);
  activeRoom = room;
  state.unread = 0;
  for (const [name, other] of rooms) other.list.hidden = name !== room;
  $("room-title").textContent = `#${room}`;
  renderRooms();
  renderMembers();
  renderTyping();
  scrollToEnd();
  $("message").focus();
}

/** room -> its button in the sidebar, updated in place so a click never lands on a stale one. */
const roomButtons = new Map();

function renderRooms() {
  for (const [room, button] of roomButtons) {
    if (rooms.has(room)) continue;
    button.parentElement.remove();
    roomButtons.delete(room);
  }
  for (const [room, state] of rooms) {
    let button = roomButtons.get(room);
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.dataset.room = room;
      const name = document.createElement("span");
      name.textContent = `#${room}`;
      const count = document.createElement("span");
      count.className = "muted count";
      const badge = document.createElement("span");
      badge.className = "badge";
      button.append(name, count, badge);
      button.addEventListener("click", () => switchRoom(room));
      const item = document.createElement("li");
      item.append(button);
      $("rooms").append(item);
      roomButtons.set(room, button);
    }
    button.className = room === activeRoom ? "room active" : "room";
    button.querySelector(".count").textContent = ` ${state.members.length} online`;
    const badge = button.querySelector(".badge");
    badge.textContent = String(state.unread);
    badge.hidden = state.unread === 0;
  }
}

function renderMembers() {
  $("members-room").textContent = `#${activeRoom}`;
  const list = $("members");
  list.replaceChildren();
  for (const nickname of rooms.get(activeRoom)?.members ?? []) {
    const item = document.createElement("li");
    item.textContent = nickname === me ? `${nickname} (you)` : nickname;
    list.append(item);
  }
}

// --- messages -------------------------------------------------------------------------------------

$("message").addEventListener("input", () => {
  const length = $("message").value.length;
  $("counter").textContent = `${length}/${MAX_MESSAGE_LENGTH}`;
  $("counter").classList.toggle("over", length > MAX_MESSAGE_LENGTH);
  sendTyping();
});

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value;
  if (text.trim() === "" || !socket) return;
  $("message").value = "";
  $("counter").textContent = `0/${MAX_MESSAGE_LENGTH}`;
  $("counter").classList.remove("over");
  const room = activeRoom;
  // Shown at once as "queued"/"sending"; the server's acknowledgement turns it into "delivered".
  // While disconnected the client buffers the emit and sends it on reconnect.
  const item = addMessage({ room, from: me, text, at: Date.now() }, { mine: true, pending: true });
  socket.emit("message", { room, text }, (reply) => {
    if (reply.ok) {
      markDelivered(item, reply.message);
    } else {
      markFailed(item, reply.error);
      showNotice(reply.error);
    }
  });
});

/** Appends a message to its room's list; returns the list item. */
function addMessage(message, { mine, pending = false }) {
  if (message.id !== undefined) {
    if (shown.has(message.id)) return undefined;
    shown.add(message.id);
  }
  const state = ensureRoom(message.room);
  const item = document.createElement("li");
  item.className = mine ? "message mine" : "message";
  const time = document.createElement("time");
  time.dateTime = new Date(message.at).toISOString();
  time.textContent = formatTime(message.at);
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = message.from;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message.text; // never innerHTML: this is someone else's input
  const status = document.createElement("span");
  status.className = "delivery";
  item.append(time, from, text, status);
  if (pending) {
    item.dataset.state = socket?.connected ? "sending" : "queued";
    status.textContent = socket?.connected ? "…" : "queued";
    status.title = socket?.connected ? "sending" : "queued: goes out on reconnect";
  }
  state.list.append(item);
  if (!mine) clearTyping(message.room, message.from);
  if (message.room === activeRoom) {
    scrollToEnd();
  } else if (!mine) {
    state.unread++;
    renderRooms();
  }
  return item;
}

function markDelivered(item, message) {
  if (!item) return;
  shown.add(message.id);
  item.dataset.state = "delivered";
  item.dataset.id = message.id;
  const status = item.querySelector(".delivery");
  status.textContent = "✓";
  status.title = `delivered at ${formatTime(message.at)}`;
}

function markFailed(item, error) {
  if (!item) return;
  item.dataset.state = "failed";
  const status = item.querySelector(".delivery");
  status.textContent = "✗";
  status.title = error;
}

// --- typing -----------------------------------------------------------------------------------------

let lastTypingSentAt = 0;
function sendTyping() {
  const now = Date.now();
  if (!socket?.connected || now - lastTypingSentAt < TYPING_SEND_EVERY_MS) return;
  lastTypingSentAt = now;
  // Volatile: if it cannot go now, it is not worth sending later.
  socket.volatile.emit("typing", activeRoom, true);
}

function onTyping(room, nickname, typing) {
  const state = rooms.get(room);
  if (!state) return;
  clearTimeout(state.typing.get(nickname));
  if (typing) {
    state.typing.set(
      nickname,
      setTimeout(() => clearTyping(room, nickname), TYPING_SHOWN_FOR_MS),
    );
  } else {
    state.typing.delete(nickname);
  }
  if (room === activeRoom) renderTyping();
}

function clearTyping(room, nickname) {
  const state = rooms.get(room);
  if (!state?.typing.has(nickname)) return;
  clearTimeout(state.typing.get(nickname));
  state.typing.delete(nickname);
  if (room === activeRoom) renderTyping();
}

function renderTyping() {
  const names = [...(rooms.get(activeRoom)?.typing.keys() ?? [])];
  $("typing").textContent =
    names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

// --- connection loss ----------------------------------------------------------------------------------

$("drop-connection").addEventListener("click", () => {
  // Closes the underlying Engine.IO connection as a network failure would: the Manager notices
  // and reconnects, and the server recovers the session (same id, rooms, missed messages).
  socket?.io.engine.close();
});

// --- small helpers --------------------------------------------------------------------------------

function transportName() {
  const engine = socket.io.engine;
  // socket.io-client exposes engine.transport.name; duplexio's client also has transportName.
  return engine.transport?.name ?? engine.transportName ?? "?";
}

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = `pill pill-${kind}`;
}

let bannerTimer;
function showBanner(text, kind, hideAfterMs = 0, button) {
  const banner = $("banner");
  clearTimeout(bannerTimer);
  banner.replaceChildren(document.createTextNode(text));
  if (button) {
    const action = document.createElement("button");
    action.type = "button";
    action.textContent = button.label;
    action.addEventListener("click", button.action);
    banner.append(action);
  }
  banner.className = `banner banner-${kind}`;
  banner.dataset.kind = kind;
  banner.hidden = false;
  if (hideAfterMs > 0) bannerTimer = setTimeout(hideBanner, hideAfterMs);
}

function hideBanner() {
  $("banner").hidden = true;
  $("banner").dataset.kind = "";
}

let noticeTimer;
function showNotice(text) {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, 5000);
}

function scrollToEnd() {
  const messages = $("messages");
  messages.scrollTop = messages.scrollHeight;
}

function formatTime(at) {
  return new Date(at).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

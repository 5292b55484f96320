"""python3-socketio's threaded client against the server under test: every step of the scenario
(see socketio-interop/scenario.ts), reported as JSON lines. Usage: sync_client.py URL TRANSPORT
(TRANSPORT "polling" or "websocket" alone, or "upgrade": polling first, then the upgrade)."""
import sys
import threading

import socketio
from common import (BAD_AUTH, BIN_NESTED, BIN_PAYLOAD, GOOD_AUTH, HELLO_ARGS, TIMEOUT,
                    describe, report)


class Inbox:
    """Events received by handlers (on the client's thread), awaited by the main thread."""

    def __init__(self):
        self.items = {}
        self.cond = threading.Condition()

    def put(self, key, value):
        with self.cond:
            self.items.setdefault(key, []).append(value)
            self.cond.notify_all()

    def take(self, key):
        with self.cond:
            if not self.cond.wait_for(lambda: self.items.get(key), timeout=TIMEOUT):
                raise TimeoutError("no " + key)
            return self.items[key].pop(0)


def main(url, mode):
    transports = None if mode == "upgrade" else [mode]
    # A wrong token: the server's middleware refuses the namespace with a CONNECT_ERROR.
    bad = socketio.Client(reconnection=False)
    refusals = []
    bad.on("connect_error", lambda *data: refusals.append(list(data)), namespace="/")
    try:
        bad.connect(url, auth=BAD_AUTH, transports=transports, wait_timeout=1)
        report("rejected", connected=True)
        bad.disconnect()
    except socketio.exceptions.ConnectionError as exc:
        report("rejected", connected=False, error=str(exc), connect_error=refusals)

    sio = socketio.Client(reconnection=False)
    inbox = Inbox()
    for nsp in ("/", "/chat"):
        sio.on("welcome", lambda data, nsp=nsp: inbox.put("welcome" + nsp, data), namespace=nsp)
        sio.on("disconnect", lambda nsp=nsp: inbox.put("disconnect" + nsp, True), namespace=nsp)
    sio.on("answer-received", lambda answer: inbox.put("answer-received", answer))
    sio.on("bin-ack-received", lambda reply: inbox.put("bin-ack-received", reply))
    sio.on("room-msg", lambda text: inbox.put("room-msg", text), namespace="/chat")

    def on_question(text):
        inbox.put("question", text)
        return "42"

    def on_server_bin(first, second):
        inbox.put("server-bin", [first, second])
        return bytes(reversed(first))

    sio.on("question", on_question)
    sio.on("server-bin", on_server_bin)

    sio.connect(url, auth=GOOD_AUTH, transports=transports, namespaces=["/", "/chat"],
                wait_timeout=TIMEOUT)
    report("connected", transport=sio.transport(), namespaces=sorted(sio.namespaces),
           distinct_sids=sio.get_sid("/") != sio.get_sid("/chat"))

    welcome = {}
    for nsp in ("/", "/chat"):
        data = inbox.take("welcome" + nsp)
        welcome[nsp] = {"nsp": data["nsp"], "user": data["user"],
                        "id_is_sid": data["id"] == sio.get_sid(nsp)}
    report("welcome", welcome=welcome)

    sio.emit("hello", HELLO_ARGS)
    report("add", result=describe(sio.call("add", (2, 3), timeout=TIMEOUT)))

    sio.emit("ask-me")
    question = inbox.take("question")
    report("server-ack", question=question, answer_seen_by_server=inbox.take("answer-received"))

    report("bin", result=describe(sio.call("bin", BIN_PAYLOAD, timeout=TIMEOUT)))
    report("bin-nested", result=describe(sio.call("bin-nested", BIN_NESTED, timeout=TIMEOUT)))

    sio.emit("ask-bin")
    received = inbox.take("server-bin")
    report("server-bin", received=describe(received),
           ack_seen_by_server=describe(inbox.take("bin-ack-received")))

    chat = sio.call("chat", "hi", namespace="/chat", timeout=TIMEOUT)
    report("chat", result=chat, room=inbox.take("room-msg"))

    sio.emit("leave-me", namespace="/chat")
    inbox.take("disconnect/chat")
    report("left-chat", namespaces=sorted(sio.namespaces),
           still_adds=sio.call("add", (1, 1), timeout=TIMEOUT))

    sio.disconnect()
    report("done", connected=sio.connected)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

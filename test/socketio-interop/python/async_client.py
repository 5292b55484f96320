"""python3-socketio's asyncio client (aiohttp underneath) against the server under test: the same
scenario and reports as sync_client.py. Usage: async_client.py URL TRANSPORT
(TRANSPORT "polling" or "websocket" alone, or "upgrade": polling first, then the upgrade)."""
import asyncio
import sys

import socketio
from common import (BAD_AUTH, BIN_NESTED, BIN_PAYLOAD, GOOD_AUTH, HELLO_ARGS, TIMEOUT,
                    describe, report)


class Inbox:
    """Events received by handlers, awaited by the scenario."""

    def __init__(self):
        self.items = {}
        self.changed = asyncio.Condition()

    async def put(self, key, value):
        async with self.changed:
            self.items.setdefault(key, []).append(value)
            self.changed.notify_all()

    async def take(self, key):
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.items.get(key)), TIMEOUT)
            return self.items[key].pop(0)


async def main(url, mode):
    transports = None if mode == "upgrade" else [mode]
    # A wrong token: the server's middleware refuses the namespace with a CONNECT_ERROR.
    bad = socketio.AsyncClient(reconnection=False)
    refusals = []

    async def on_refusal(*data):
        refusals.append(list(data))

    bad.on("connect_error", on_refusal, namespace="/")
    try:
        await bad.connect(url, auth=BAD_AUTH, transports=transports, wait_timeout=1)
        report("rejected", connected=True)
        await bad.disconnect()
    except socketio.exceptions.ConnectionError as exc:
        report("rejected", connected=False, error=str(exc), connect_error=refusals)

    sio = socketio.AsyncClient(reconnection=False)
    inbox = Inbox()

    def forward(key):
        async def handler(*args):
            await inbox.put(key, args[0] if args else True)
        return handler

    for nsp in ("/", "/chat"):
        sio.on("welcome", forward("welcome" + nsp), namespace=nsp)
        sio.on("disconnect", forward("disconnect" + nsp), namespace=nsp)
    sio.on("answer-received", forward("answer-received"))
    sio.on("bin-ack-received", forward("bin-ack-received"))
    sio.on("room-msg", forward("room-msg"), namespace="/chat")

    async def on_question(text):
        await inbox.put("question", text)
        return "42"

    async def on_server_bin(first, second):
        await inbox.put("server-bin", [first, second])
        return bytes(reversed(first))

    sio.on("question", on_question)
    sio.on("server-bin", on_server_bin)

    await sio.connect(url, auth=GOOD_AUTH, transports=transports, namespaces=["/", "/chat"],
                      wait_timeout=TIMEOUT)
    report("connected", transport=sio.transport(), namespaces=sorted(sio.namespaces),
           distinct_sids=sio.get_sid("/") != sio.get_sid("/chat"))

    welcome = {}
    for nsp in ("/", "/chat"):
        data = await inbox.take("welcome" + nsp)
        welcome[nsp] = {"nsp": data["nsp"], "user": data["user"],
                        "id_is_sid": data["id"] == sio.get_sid(nsp)}
    report("welcome", welcome=welcome)

    await sio.emit("hello", HELLO_ARGS)
    report("add", result=describe(await sio.call("add", (2, 3), timeout=TIMEOUT)))

    await sio.emit("ask-me")
    question = await inbox.take("question")
    report("server-ack", question=question,
           answer_seen_by_server=await inbox.take("answer-received"))

    report("bin", result=describe(await sio.call("bin", BIN_PAYLOAD, timeout=TIMEOUT)))
    report("bin-nested",
           result=describe(await sio.call("bin-nested", BIN_NESTED, timeout=TIMEOUT)))

    await sio.emit("ask-bin")
    received = await inbox.take("server-bin")
    report("server-bin", received=describe(received),
           ack_seen_by_server=describe(await inbox.take("bin-ack-received")))

    chat = await sio.call("chat", "hi", namespace="/chat", timeout=TIMEOUT)
    report("chat", result=chat, room=await inbox.take("room-msg"))

    await sio.emit("leave-me", namespace="/chat")
    await inbox.take("disconnect/chat")
    report("left-chat", namespaces=sorted(sio.namespaces),
           still_adds=await sio.call("add", (1, 1), timeout=TIMEOUT))

    await sio.disconnect()
    report("done", connected=sio.connected)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

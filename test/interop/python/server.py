"""python-websockets as a server for the client under test.

Usage: server.py DEFLATE_VARIANT
Prints {"port": N} once listening, then one JSON line per event. Behaviour by request path:
  /echo       echoes every message
  /fragments  sends a fragmented text and a fragmented binary message, then echoes
  /ping       pings the client with a payload, reports the pong, then echoes
  /big        sends 16 MiB of binary (after reporting its hash), then echoes
  /close      closes with 4002 "py server bye" after the first message
  /reject     refuses the handshake with HTTP 403
Every connection reports {"event": "closed", ...} with the code and reason the client sent.
"""
import asyncio
import http
import sys

import websockets

from common import MAX_SIZE, big_bytes, describe_extensions, emit, server_extensions, sha256


async def handler(ws):
    path = ws.path
    emit(event="open", path=path, subprotocol=ws.subprotocol, extensions=describe_extensions(ws))
    try:
        if path == "/fragments":
            await ws.send(["alpha ", "beta ", "γάμμα"])
            await ws.send([b"\x00\x01", b"\x02"])
        elif path == "/ping":
            waiter = await ws.ping(b"py-server-ping")
            await asyncio.wait_for(waiter, 10)
            emit(event="pong", path=path)
        elif path == "/big":
            data = big_bytes(16 * 1024 * 1024)
            emit(event="big", sha256=sha256(data), length=len(data))
            await ws.send(data)
        elif path == "/close":
            message = await ws.recv()
            emit(event="message", path=path, type=type(message).__name__, value=str(message))
            await ws.close(4002, "py server bye")
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    emit(event="closed", path=path, code=ws.close_code, reason=ws.close_reason)


async def process_request(path, headers):
    if path == "/reject":
        return http.HTTPStatus.FORBIDDEN, [], b"no\n"
    return None


async def main(variant):
    async with websockets.serve(
        handler,
        "127.0.0.1",
        0,
        compression=None,
        extensions=server_extensions(variant),
        subprotocols=["chat.v2"],
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=5,
        read_limit=2**22,
        write_limit=2**22,
        process_request=process_request,
    ) as server:
        emit(port=server.sockets[0].getsockname()[1])
        await asyncio.Future()


try:
    asyncio.run(main(sys.argv[1]))
except KeyboardInterrupt:
    pass

"""python-websockets as a client of the server under test.

Usage: client.py URL DEFLATE_VARIANT CLOSE_MODE LARGE_MIB
  DEFLATE_VARIANT: off | default | no-context-takeover | small-windows
  CLOSE_MODE: client (we close with 4000) | server (we ask the server to close with 4001)
  LARGE_MIB: size of the large text and binary messages, in MiB
Runs a fixed scenario against an echo server and prints one JSON line per step.
"""
import asyncio
import sys

import websockets

from common import (
    MAX_SIZE,
    big_bytes,
    client_extensions,
    compressible_text,
    describe_extensions,
    emit,
    sha256,
)


async def echo(ws, message):
    await ws.send(message)
    return await asyncio.wait_for(ws.recv(), 20)


async def main(url, variant, close_mode, large):
    extensions = client_extensions(variant)
    async with websockets.connect(
        url,
        subprotocols=["chat.v1", "chat.v2"],
        compression=None,
        extensions=extensions,
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=5,
        read_limit=2**22,
        write_limit=2**22,
    ) as ws:
        emit(step="open", subprotocol=ws.subprotocol, extensions=describe_extensions(ws))

        text = "héllo wörld κόσμε 𝄞"
        got = await echo(ws, text)
        emit(step="text", type=type(got).__name__, value=got)

        data = bytes([0, 1, 2, 253, 254, 255])
        got = await echo(ws, data)
        emit(step="binary", type=type(got).__name__, hex=got.hex())

        got = await echo(ws, "")
        emit(step="empty-text", type=type(got).__name__, value=got)
        got = await echo(ws, b"")
        emit(step="empty-binary", type=type(got).__name__, hex=got.hex())

        big = big_bytes(large)
        got = await echo(ws, big)
        emit(step="large-binary", type=type(got).__name__, length=len(got), same=sha256(got) == sha256(big))

        big_text = compressible_text(large)
        got = await echo(ws, big_text)
        emit(step="large-text", type=type(got).__name__, length=len(got), same=got == big_text)

        # An iterable is sent as a fragmented message: one frame per item.
        got = await echo(ws, ["frag-1 ", "frag-2 κό", "σμε end"])
        emit(step="fragmented-text", type=type(got).__name__, value=got)
        got = await echo(ws, [b"\x00\x01", b"", b"\x02\x03"])
        emit(step="fragmented-binary", type=type(got).__name__, hex=got.hex())

        waiter = await ws.ping(b"py-ping")
        await asyncio.wait_for(waiter, 10)
        emit(step="ping", ok=True)

        # The server pings us (python answers by itself), then says "pinged" once it got the pong.
        got = await echo(ws, "ping-me")
        emit(step="server-ping", value=got)

        if close_mode == "client":
            await ws.close(4000, "py bye")
        else:
            await ws.send("close-me")
            await asyncio.wait_for(ws.wait_closed(), 10)
        emit(step="closed", code=ws.close_code, reason=ws.close_reason)


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) * 1024 * 1024))

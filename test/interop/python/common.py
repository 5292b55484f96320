"""Shared bits of the interop scripts: JSON-line output and deflate settings by name.

Every script prints one JSON object per line on stdout; the Node test parses them and asserts.
"""
import hashlib
import json
import random
import sys

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

MAX_SIZE = 64 * 1024 * 1024


def emit(**fields):
    """Prints one result line and flushes, so the parent sees it even if we are killed later."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def sha256(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def big_bytes(size):
    """Deterministic pseudo-random bytes (the Node side does not need to rebuild them)."""
    return random.Random(1).randbytes(size)


def compressible_text(size):
    """Text of `size` characters that deflate shrinks well; one block repeated (fast to build)."""
    words = ["duplex", "socket", "frame", "deflate", "message", "κόσμε", "echo", "close"]
    block = "".join("%s %d " % (words[(i * 7 + (i >> 3)) % len(words)], i % 97) for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


# Deflate variants by name, the same names for both roles.
DEFLATE_VARIANTS = {
    "default": {},
    "no-context-takeover": {"server_no_context_takeover": True, "client_no_context_takeover": True},
    "small-windows": {"server_max_window_bits": 10, "client_max_window_bits": 9},
}


def client_extensions(variant):
    if variant == "off":
        return None
    params = dict(DEFLATE_VARIANTS[variant])
    return [ClientPerMessageDeflateFactory(**params)]


def server_extensions(variant):
    if variant == "off":
        return None
    return [ServerPerMessageDeflateFactory(**DEFLATE_VARIANTS[variant])]


def describe_extensions(ws):
    return [
        {
            "name": e.name,
            "remote_no_context_takeover": e.remote_no_context_takeover,
            "local_no_context_takeover": e.local_no_context_takeover,
            "remote_max_window_bits": e.remote_max_window_bits,
            "local_max_window_bits": e.local_max_window_bits,
        }
        for e in ws.extensions
    ]

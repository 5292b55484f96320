"""Shared by the python3-socketio interop clients: JSON-line reports and value descriptions."""
import json
import sys

# The server under test expects these in `socket.handshake.auth`.
GOOD_AUTH = {"token": "secret", "user": "py"}
BAD_AUTH = {"token": "wrong"}

TIMEOUT = 5


def describe(value):
    """JSON-safe form of a received value: bytes become {"bytes": hex}, tuples become lists."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [describe(item) for item in value]
    if isinstance(value, dict):
        return {key: describe(item) for key, item in value.items()}
    return value


def report(step, **fields):
    """One line of the run's output, for the Node side to assert."""
    sys.stdout.write(json.dumps({"step": step, **fields}) + "\n")
    sys.stdout.flush()


# What the client sends, shared by both clients so the Node side asserts one scenario.
HELLO_ARGS = ("text \u2713", {"n": 1, "nested": [1, None, True]})
BIN_PAYLOAD = bytes(range(256))
BIN_NESTED = {"a": b"\x00\x01", "list": [b"\xff", "text", b""]}

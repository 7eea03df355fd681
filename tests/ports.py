"""Loopback ports for the tests, safe on a machine shared with other test runs.

A port found free and then released (bind to 0, close, hand the number over) may be taken by
another process before our server binds it. Servers therefore bind port 0 themselves and report
the port they got; a port meant to refuse connections stays bound here, never listening.
"""

from __future__ import annotations

import atexit
import socket

_held: list[socket.socket] = []


def closed_port() -> int:
    """A loopback port with nobody listening: connecting is refused at once.

    The port stays bound (without listening) by this process until it exits, so no other
    process, such as another engineer's test SMTP server, can start listening on it meanwhile."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    if not _held:
        atexit.register(lambda: [s.close() for s in _held])
    _held.append(held)
    return held.getsockname()[1]

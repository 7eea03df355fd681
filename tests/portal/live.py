"""The portal served for real (uvicorn on a loopback port, in a thread) for the browser tests.

The server binds port 0 itself (see tests/ports.py: other test runs share the machine) and
serves the same `Desk` as the test, so the desk's service calls and the fake clock are shared.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from gandrange_desk.portal.app import PortalConfig, create_app


class LivePortal:
    def __init__(self, desk, secret: str):
        self.app = create_app(desk, PortalConfig(secret=secret, secure_cookies=False))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="portal-live", daemon=True)

    def __enter__(self) -> "LivePortal":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("le portail de test n'a pas démarré")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        self.sock.close()

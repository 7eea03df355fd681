"""Progress and cancellation for long services, without Qt (the window and the CLI both use it)."""

from __future__ import annotations

import threading
from typing import Callable


class Cancelled(Exception):
    """The user cancelled; raised inside the unit of work so it rolls back."""


class Progress:
    def __init__(self, cancel_event: threading.Event | None = None,
                 report: Callable[[int, int, str], None] | None = None):
        self.cancel_event = cancel_event or threading.Event()
        self._report = report

    def step(self, done: int, total: int, label: str = "") -> None:
        if self._report:
            self._report(done, total, label)

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()

    def cancel(self) -> None:
        self.cancel_event.set()

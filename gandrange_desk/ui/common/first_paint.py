"""Run work just after a top-level window's first paint, and never wait for it forever.

The main window and the login dialog are drawn first; opening the database, loading the ORM,
the first tab's query come right after, so the clerk sees the window at once (issue 14).

The first paint is whichever comes first of the window's own `Paint` event (Qt paints a newly
exposed window directly, without an `UpdateRequest`) and its `UpdateRequest` (every later
repaint). The work runs from the event loop once that paint is done. A window shown but never
painted (minimised at start, a locked session, a platform that paints nothing) runs it after
`FALLBACK_MS` all the same: nothing may wait on a paint that never comes.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QEvent, QTimer

_PAINTS = (QEvent.Paint, QEvent.UpdateRequest)


class PaintsFirst:
    """Mixin for a top-level widget, listed before its Qt class:
    `class MainWindow(PaintsFirst, QMainWindow)`."""

    FALLBACK_MS = 1500
    first_paint_done = False  # painted (or given up waiting): `after_first_paint` runs at once
    first_painted_at: float | None = None  # perf_counter once the first paint is done
    paint_fell_back = False  # the fallback ran the work, no paint seen
    _paint_seen = False
    _paint_armed = False
    _paint_waiting: list | None = None
    _next_paint_waiting: list | None = None

    def after_first_paint(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the window has been painted (at once if it already was)."""
        if self.first_paint_done:
            fn()
            return
        if self._paint_waiting is None:
            self._paint_waiting = []
        self._paint_waiting.append(fn)

    def after_next_paint(self, fn: Callable[[], None]) -> None:
        """Run `fn` from the event loop once the window's next paint is done (what was just put
        in it is on screen), or after `FALLBACK_MS` if no paint comes."""
        if self._next_paint_waiting is None:
            waiting = self._next_paint_waiting = []
            # The fallback runs this list only: a later one waits for its own paint.
            QTimer.singleShot(self.FALLBACK_MS, self, lambda: self._run_after_next_paint(waiting))
        self._next_paint_waiting.append(fn)

    def _run_after_next_paint(self, only: list | None = None) -> None:
        waiting = self._next_paint_waiting
        if not waiting or (only is not None and waiting is not only):
            return
        self._next_paint_waiting = None
        for fn in waiting:
            fn()

    def event(self, event) -> bool:  # noqa: D401 - Qt API
        done = super().event(event)
        if self._next_paint_waiting and event.type() in _PAINTS and self.isVisible():
            QTimer.singleShot(0, self._run_after_next_paint)
        if not self._paint_seen:
            kind = event.type()
            if kind == QEvent.Show and not self._paint_armed:
                self._paint_armed = True
                QTimer.singleShot(self.FALLBACK_MS, self._paint_fallback)
            elif kind in _PAINTS and self.isVisible():
                self._paint_seen = True
                QTimer.singleShot(0, self._painted)  # after this paint, from the event loop
        return done

    def _painted(self) -> None:
        if not self.first_paint_done:
            self.first_painted_at = time.perf_counter()
            self._run_after_first_paint()

    def _paint_fallback(self) -> None:
        if not self.first_paint_done:
            self.paint_fell_back = not self._paint_seen
            if self._paint_seen:  # painted, but the loop was too busy to come back until now
                self.first_painted_at = time.perf_counter()
            self._run_after_first_paint()

    def _run_after_first_paint(self) -> None:
        self.first_paint_done = True
        waiting, self._paint_waiting = self._paint_waiting or [], None
        for fn in waiting:
            fn()

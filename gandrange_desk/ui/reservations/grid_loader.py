"""The month's rows read after its frame: a screenful at once, the rest between events.

The tab opens a month with `reads.month_grid_frame` (every child's name, class and mark, the
closures, the places per column: no cell yet) and hands it to `start`: the rows on screen are
read at once (`reads.month_grid_rows`), then the others a chunk per turn of the event loop, so
the clerk reads, scrolls, searches and clicks from the first paint. A chunk goes to the rows
on screen first (the clerk may have scrolled), then in the order shown.

A new month, school, activity or unit choice calls `start` again (or `cancel`): the old load
stops and nothing it read reaches the new grid. Whatever needs every row (an action on the
selection, the right-click menu, another tab's changes) calls `finish` first, which reads what
is left at once.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from gandrange_desk.errors import DeskError
from gandrange_desk.services.reservations import reads
from gandrange_desk.ui.common.ops import UNEXPECTED, log
from gandrange_desk.services.reservations.grid import GridData

FIRST_ROWS = 40  # more than a 1366×768 window shows (~24 rows of 22 px)
# A month of this many children or fewer is read whole at once: its ~6,000 cells cost ~5 ms,
# less than a second statement and read (~1–2 ms on PostgreSQL) saves on the first screen.
WHOLE_AT_ONCE = 512
CHUNK = 128  # ~5 ms of reading per turn of the event loop (a click waits for one at most)
PAINT_FALLBACK_MS = 100


class GridLoader(QObject):
    # Every row of the grid now shown is read (its totals, its cells).
    finished = Signal()

    def __init__(self, tab, on_error: Callable[[str], None]):
        super().__init__(tab)
        self.tab = tab
        self.on_error = on_error
        self.data: GridData | None = None
        self.next_row = 0  # where the next chunk looks first, in data order
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._step)
        self.first_rows = FIRST_ROWS
        self.whole_at_once = WHOLE_AT_ONCE
        self.chunk = CHUNK
        # The first chunk waits for the grid's paint (a timer would run before it): the clerk
        # sees the first screen, then the rest is read. A view that never paints (hidden,
        # minimised) still gets its rows after PAINT_FALLBACK_MS.
        self.waiting_paint = False
        tab.grid.viewport().installEventFilter(self)

    @property
    def loading(self) -> bool:
        return self.data is not None

    def start(self, data: GridData) -> None:
        """`data` is the model's new frame: read the rows on screen now, the rest after."""
        self.cancel()
        if not data.pending:
            self.tab.model.all_rows_read(data)
            self.finished.emit()
            return
        self.data = data
        self.next_row = 0
        first = len(data.child_ids) if len(data.child_ids) <= self.whole_at_once else \
            max(self.first_rows, self._screen_rows())
        if self._read(self._rows_to_read(first)) and data.pending:
            self.waiting_paint = True
            self.timer.start(PAINT_FALLBACK_MS)
        else:
            self._next()

    def cancel(self) -> None:
        self.timer.stop()
        self.data = None
        self.waiting_paint = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if self.waiting_paint and event.type() == QEvent.Paint:
            self.waiting_paint = False
            self.timer.start(0)  # after this paint, at the next turn of the event loop
        return False

    def finish(self) -> bool:
        """Read every row left now (a clerk's action needs them all); False if it failed."""
        data = self.data
        if data is None:
            return True
        self.timer.stop()
        rows = [row for row in range(len(data.child_ids)) if not data.loaded[row]]
        if not self._read(rows):
            return False
        self._next()
        return True

    # --- inside ------------------------------------------------------------------------------
    def _step(self) -> None:
        self.waiting_paint = False
        if self.data is None:
            return
        if self._read(self._rows_to_read(self.chunk)):
            self._next()

    def _next(self) -> None:
        data = self.data
        if data is None:
            return
        if data.pending:
            self.timer.start(0)
            return
        self.data = None
        self.tab.model.all_rows_read(data)
        self.finished.emit()

    def _read(self, rows: list[int]) -> bool:
        data = self.data
        if data is None or self.tab.model.grid is not data:
            self.cancel()  # a stale load: another month is shown
            return False
        if not rows:
            return True
        try:
            states = reads.month_grid_rows(self.tab.desk, data, rows)
        except DeskError as exc:  # said in the message line; the rows left stay "…"
            self.cancel()
            self.on_error(str(exc))
            return False
        except Exception:  # noqa: BLE001 - a bug: logged, one French sentence
            self.cancel()
            log.exception("Réservations : lecture des lignes de la grille")
            self.on_error(UNEXPECTED)
            return False
        if self.data is not data or self.tab.model.grid is not data:
            return False
        self.tab.model.fill_rows(states)
        return True

    def _screen_rows(self) -> int:
        view = self.tab.grid
        height = view.viewport().height() or view.height()
        return height // max(1, view.verticalHeader().defaultSectionSize()) + 2

    def _rows_to_read(self, count: int) -> list[int]:
        """Up to `count` unread rows: those on screen first, then the shown rows in their
        order, then the rows the search hides."""
        data, model, view = self.data, self.tab.model, self.tab.grid
        loaded = data.loaded
        picked: dict[int, None] = {}
        top = max(view.rowAt(0), 0)
        for r in range(top, min(top + self._screen_rows(), len(model.visible))):
            row = model.visible[r]
            if not loaded[row]:
                picked[row] = None
        if len(model.visible) != len(data.child_ids):  # a search: the rows it shows next
            for row in model.visible:
                if len(picked) >= count:
                    break
                if not loaded[row]:
                    picked[row] = None
        n = len(loaded)
        row = self.next_row
        while len(picked) < count and row < n:
            if not loaded[row]:
                picked[row] = None
            row += 1
        self.next_row = row
        return list(picked)[:max(count, len(picked))]


__all__ = ["CHUNK", "FIRST_ROWS", "GridLoader"]

"""Reservation grid figures (issue 3, DESIGN §10) on the 2,000-family base:

- grid_open: one site's month (the élémentaire, the three périscolaire units) — the one query,
  the model, and the first paint of the view — beside the bare driver-level read of the same
  rows (the same compiled SQL through a sqlite3 cursor) and their ratio;
- grid_click: one click on a white cell, booked (R) and committed, model updated;
- grid_rectangle: a 1,000-cell rectangle booked in one operation and committed.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import select  # noqa: E402

from gandrange_desk.models import Activity, School  # noqa: E402

RUNS = 9
RECTANGLE = 1000


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _site(desk):
    with desk.read() as s:
        school_id = s.execute(select(School.id).where(School.name == "École élémentaire")).scalar_one()
        activity_id = s.execute(select(Activity.id).where(Activity.code == "PERISCOLAIRE")).scalar_one()
    return school_id, activity_id


def _busiest_past_month(base) -> date:
    try:
        from bench_foundation import site_month

        return site_month(base)["first"]
    except Exception:  # the foundation bench missing: the month before the base's today
        today = base.now().date()
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _tab(desk, school_id: int, activity_id: int, month: date):
    from gandrange_desk.ui.reservations.tab import ReservationsTab

    _app()
    tab = ReservationsTab(desk)
    tab.resize(1400, 850)
    tab.show()
    tab.activity_combo.setCurrentIndex(tab.activity_combo.findData(activity_id))
    tab.school_combo.setCurrentIndex(tab.school_combo.findData(school_id))
    tab.set_month(month)
    if hasattr(tab, "finish_loading"):
        tab.finish_loading()  # every row read: the clicks below are measured on a whole month
    # A benchmark must never wait on a dialog.
    tab.confirm = lambda text: False
    tab.prompt_cancel = lambda *a: None
    tab.prompt_reason = lambda *a: None
    tab.prompt_decision = lambda *a: None
    return tab


def _paint(app, tab) -> None:
    """The open's paint as the event loop makes it: every widget the open made dirty painted
    once. (`viewport().repaint()` of the grid then of the names painted the names twice: the
    grid's repaint flushes the window's other dirty widgets, the names' own repaint drew them
    again, ~0.8 ms a paint counted that no clerk waits for.)"""
    from PySide6.QtCore import QEvent

    painted = _Painted.of(tab)
    before = painted.count
    tab.grid.viewport().update()
    tab.names.viewport().update()
    app.sendPostedEvents(None, QEvent.Type.UpdateRequest)
    # Never a figure without its paint: if Qt ever deferred it, the open would look free.
    assert painted.count >= before + 2, "la grille n'a pas été peinte"


class _Painted:
    """Counts the paint events of the grid's and the names' viewports."""

    def __init__(self, tab):
        from PySide6.QtCore import QEvent, QObject

        self.count = 0
        counter = self

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt API
                if event.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        self.filter = Filter(tab)
        tab.grid.viewport().installEventFilter(self.filter)
        tab.names.viewport().installEventFilter(self.filter)

    @classmethod
    def of(cls, tab) -> "_Painted":
        found = getattr(tab, "_bench_painted", None)
        if found is None:
            found = tab._bench_painted = cls(tab)
        return found


def _median(samples):
    return statistics.median(samples)


def grid_open(base) -> dict:
    desk = base.desk()
    school_id, _activity_id = _site(desk)
    desk.engine.dispose()
    return measure_open(base, school_id)


def measure_open(base, school_id: int) -> dict:
    """One site's busiest past month opened (query, model, first paint) against the bare SQL."""
    from gandrange_desk.services.reservations.grid import grid_query, month_days

    desk = base.desk()
    _school_id, activity_id = _site(desk)
    month = _busiest_past_month(base)
    tab = _tab(desk, school_id, activity_id, month)
    app = _app()
    opened, first_screen = [], []
    whole = getattr(tab, "finish_loading", lambda: True)
    for _ in range(RUNS):
        app.processEvents()
        started = time.perf_counter()
        tab.reload()  # the frame and the rows on screen (a paged open reads the rest after)
        _paint(app, tab)
        first_screen.append((time.perf_counter() - started) * 1000)
        whole()  # the whole month read, as the bare SQL reads it
        _paint(app, tab)
        opened.append((time.perf_counter() - started) * 1000)
    g = tab.model.grid
    days = month_days(month)
    statement = grid_query([u.id for u in g.units], days[0], days[-1], school_id)
    # The same SQL, compiled for the base's own backend (sqlite3 or psycopg), run on its cursor.
    compiled = statement.compile(dialect=desk.engine.dialect, compile_kwargs={"literal_binds": True})
    sql = str(compiled)
    bare, rows = [], 0
    with desk.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute(sql)
        cursor.fetchall()
        for _ in range(RUNS):
            started = time.perf_counter()
            cursor.execute(sql)
            rows = len(cursor.fetchall())
            bare.append((time.perf_counter() - started) * 1000)
        cursor.close()
    cells = len(g.child_ids) * len(g.columns)
    open_days = sum(1 for c in g.closed if c is None) // max(1, len(g.units))
    value, reference = _median(opened), _median(bare)
    tab.close()
    desk.engine.dispose()
    return {"value": round(value, 2), "unit": "ms", "target": "≤ 150 ms and ≤ 2× bare SQL",
            "bare_sql_ms": round(reference, 2), "ratio": round(value / reference, 2),
            "first_screen_ms": round(_median(first_screen), 2),
            "rows": rows, "children": len(g.child_ids), "units": len(g.units),
            "open_days": open_days, "cells": cells, "month": month.strftime("%Y-%m"), "runs": RUNS}


def _future_month(base) -> date:
    """A month past the base's booked horizon, so its cells are white."""
    today = base.now().date()
    m = today.month + 2
    return date(today.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)


def _blank_open_cells(tab):
    from gandrange_desk.services.reservations.grid import BLANK

    g = tab.model.grid
    for row, states in enumerate(g.states):
        for c, closed in enumerate(g.closed):
            if closed is None and states[c] == BLANK:
                yield row, c


def grid_click(base) -> dict:
    from gandrange_desk.ui.reservations.grid_model import FIXED

    desk = base.fresh_desk()
    school_id, activity_id = _site(desk)
    tab = _tab(desk, school_id, activity_id, _future_month(base))
    free = _blank_open_cells(tab)
    timings = []
    for _ in range(RUNS + 1):
        row, c = next(free)
        index = tab.model.index(tab.model.visible.index(row), FIXED + c)
        tab.grid.setCurrentIndex(index)
        started = time.perf_counter()
        tab.run_action("default")
        timings.append((time.perf_counter() - started) * 1000)
        assert index.data() == "R", tab.message.text()
    tab.close()
    desk.engine.dispose()
    return {"value": round(_median(timings[1:]), 2), "unit": "ms", "target": "≤ 10 ms",
            "note": "click on a white cell: service call, commit, model update", "runs": RUNS}


def _clear(desk, child_ids, unit_ids, first, last) -> None:
    """Setup, not timed: the demo books whole years of habits, so make the rectangle white."""
    from sqlalchemy import delete

    from gandrange_desk.models import Booking

    with desk.unit_of_work() as s:
        s.execute(delete(Booking).where(Booking.child_id.in_(child_ids), Booking.unit_id.in_(unit_ids),
                                        Booking.day >= first, Booking.day <= last))


def grid_rectangle(base) -> dict:
    from gandrange_desk.ui.reservations.grid_model import FIXED

    desk = base.fresh_desk()
    school_id, activity_id = _site(desk)
    first_month = _future_month(base)
    tab = _tab(desk, school_id, activity_id, first_month)
    timings, sizes = [], []
    month = first_month
    # Each run books the same children in the next month: white cells, and no day goes over
    # capacity (an override would need the clerk's confirmation).
    for _ in range(5):
        tab.set_month(month)
        g = tab.model.grid
        open_cols = [c for c, closed in enumerate(g.closed) if closed is None]
        month = (month + timedelta(days=32)).replace(day=1)
        if not open_cols:
            continue
        rows_needed = -(-RECTANGLE // len(open_cols))
        _clear(desk, [g.child_ids[tab.model.visible[r]] for r in range(rows_needed)],
               [u.id for u in g.units], g.days[0], g.days[-1])
        tab.reload()
        first = tab.model.index(0, FIXED + open_cols[0])
        last = tab.model.index(rows_needed - 1, FIXED + open_cols[-1])
        tab.select_cells(first, last)
        cells = len(tab.selected_cells())
        started = time.perf_counter()
        tab.run_action("book")
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(cells)
        assert tab.message.text().startswith(f"{cells} cases réservées"), tab.message.text()
    tab.close()
    desk.engine.dispose()
    return {"value": round(_median(timings), 2), "unit": "ms", "target": "≤ 200 ms",
            "cells": int(_median(sizes)), "runs": len(timings),
            "note": "rectangle selection booked (R) in one transaction, model updated"}


FIGURES = {
    "grid_open": grid_open,
    "grid_click": grid_click,
    "grid_rectangle": grid_rectangle,
}

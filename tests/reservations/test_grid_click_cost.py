"""A grid click in the main window: what runs after it must not grow with the base (issue 14).

The statements a click sends, the model callbacks Qt makes and the widgets repainted are the
same with 2 children as with 30: nothing after the click counts the families, re-reads the
rows or re-lays the tab out.
"""

from __future__ import annotations

import collections
from datetime import date

import pytest
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import event

from gandrange_desk.ui.main_window import MainWindow
from gandrange_desk.ui.reservations.grid_model import GridModel
from tests.builders import load_example_settings, make_family, unit_id

MARCH = date(2026, 3, 1)
NAMES = ("GridModel.flags", "GridModel.rowCount", "GridModel.columnCount", "GridModel.data",
         "GridModel.headerData")


@pytest.fixture
def world(desk, clock):
    clock.set(2026, 3, 2, 9, 0)
    load_example_settings(desk)
    kids = [make_family(desk, f"Famille{i:02d}", children=[{"first_name": "Léa", "class_name": "CE2"}])
            .children[0].id for i in range(2)]
    return {"kids": kids, "repas": unit_id(desk, "PERISCOLAIRE", "Repas")}


def idle() -> None:
    app = QApplication.instance()
    for _ in range(3):
        app.processEvents(QEventLoop.AllEvents)
        app.sendPostedEvents()


class Counting(QObject):
    """Model callbacks, SQL statements and relayouts during one click."""

    def __init__(self, engine, monkeypatch):
        super().__init__()
        self.calls = collections.Counter()
        self.statements: list[str] = []
        self.layouts: list[str] = []
        for name in NAMES:
            attr = name.split(".")[1]
            fn = getattr(GridModel, attr)
            monkeypatch.setattr(GridModel, attr, self._wrap(attr, fn))
        event.listen(engine, "before_cursor_execute", self._sql)
        self.engine = engine

    def _wrap(self, name, fn):
        def wrapped(model, *args):
            self.calls[name] += 1
            return fn(model, *args)
        return wrapped

    def _sql(self, conn, cursor, statement, params, context, executemany):
        self.statements.append(" ".join(statement.split())[:40])  # its kind, not its values

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.LayoutRequest:
            self.layouts.append(type(obj).__name__)
        return False

    def clear(self) -> None:
        self.calls.clear()
        self.statements.clear()
        self.layouts.clear()

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._sql)


def _click(qtbot, tab, counting, kid, unit, day) -> dict:
    index = tab.model.index_of(kid, unit, day)
    assert index.isValid() and index.data() == ""
    tab.grid.scrollTo(index)
    idle()
    qtbot.mouseClick(tab.grid.viewport(), Qt.LeftButton, pos=tab.grid.visualRect(index).center())
    idle()
    counting.clear()
    QApplication.instance().installEventFilter(counting)
    try:
        qtbot.keyClick(tab.grid, Qt.Key_Space)
        idle()
    finally:
        QApplication.instance().removeEventFilter(counting)
    assert index.data() == "R", tab.message.text()
    return {"calls": dict(counting.calls), "statements": list(counting.statements),
            "layouts": sorted(set(counting.layouts))}


def test_what_a_click_costs_does_not_grow_with_the_children(qtbot, desk, engine, world, monkeypatch):
    counting = Counting(engine, monkeypatch)  # before the window: PySide binds the overrides then
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window._sender_timer.stop()
    window.resize(1366, 768)
    window.show()
    window.tabs.setCurrentIndex(1)
    tab = window.tab_widget(1)
    tab.set_month(MARCH)
    tab.finish_loading()
    idle()
    try:
        kid = world["kids"][0]
        # A first click with another message, so both measured clicks change the text alike.
        _click(qtbot, tab, counting, kid, world["repas"], date(2026, 3, 16))
        small = _click(qtbot, tab, counting, kid, world["repas"], date(2026, 3, 17))
        for i in range(2, 30):
            make_family(desk, f"Famille{i:02d}", children=[{"first_name": "Hugo", "class_name": "CE2"}])
        tab.set_month(MARCH)
        tab.finish_loading()
        idle()
        assert tab.model.rowCount() == 30
        big = _click(qtbot, tab, counting, kid, world["repas"], date(2026, 3, 19))
    finally:
        counting.close()
    assert big["calls"] == small["calls"] and len(big["statements"]) == len(small["statements"])
    assert [s[:25] for s in big["statements"]] == [s[:25] for s in small["statements"]]
    # An office booking moves no pending request: the status bar reads nothing; never the
    # families' count.
    assert not any("family" in s.lower() or "count(" in s.lower() for s in big["statements"]), big
    # A new message repaints its label, never a new layout of the tab.
    assert "ReservationsTab" not in small["layouts"] + big["layouts"], big["layouts"]


def test_an_office_booking_moves_no_pending_request(desk, world):
    from gandrange_desk.services.changes import Changes
    from gandrange_desk.services.reservations import cells

    booked = cells.book_cells(desk, [(world["kids"][0], world["repas"], date(2026, 3, 17))])
    assert booked.changes.requests and not booked.changes.moves_pending()
    asked = cells.book_cells(desk, [(world["kids"][1], world["repas"], date(2026, 3, 17))], for_family=True)
    assert asked.changes.moves_pending()
    both = Changes().merge(booked.changes).merge(asked.changes)
    assert both.moves_pending()
    assert Changes(cells={(1, 2, date(2026, 3, 17))}).moves_pending()  # said without its requests
    assert Changes.all().moves_pending() and not Changes(families={1}).moves_pending()


def test_the_instant_bound_once_per_batch_is_still_checked_and_converted(engine):
    from datetime import datetime, timedelta, timezone

    from gandrange_desk.clock import PARIS
    from gandrange_desk.models.base import AwareDateTime

    dialect = engine.dialect
    process = AwareDateTime().dialect_impl(dialect).bind_processor(dialect)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    for value in (at, at, at.astimezone(timezone.utc), at + timedelta(microseconds=1), None, at):
        fresh = AwareDateTime().dialect_impl(dialect).bind_processor(dialect)  # remembers nothing
        assert process(value) == fresh(value)
    with pytest.raises(ValueError):
        process(at.replace(tzinfo=None))  # naive, even right after the same wall time aware


def test_a_rectangle_sends_the_same_statements_whatever_its_cells(desk, engine, world):
    """A rectangle is one operation: its statements (loads, one INSERT per kind of row, the
    commit) are the same for 2 children × 8 days as for 14 children × the whole month (252 cells booked), and
    every cell comes out as the rules say (closed days skipped with their reason)."""
    from gandrange_desk.services.reservations import cells

    kids = list(world["kids"]) + [
        make_family(desk, f"Famille{i:02d}", children=[{"first_name": "Hugo", "class_name": "CE2"}])
        .children[0].id for i in range(2, 16)]
    repas = world["repas"]
    statements: list[str] = []

    def sql(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split())[:30])

    def rectangle(children, days):
        statements.clear()
        event.listen(engine, "before_cursor_execute", sql)
        try:
            result = cells.book_cells(desk, [(k, repas, d) for k in children for d in days])
        finally:
            event.remove(engine, "before_cursor_execute", sql)
        return result, list(statements)

    march = [date(2026, 3, d) for d in range(1, 32)]
    small, small_sql = rectangle(kids[:2], march[8:16])
    big, big_sql = rectangle(kids[2:], march)
    assert len(small.changed) + len(small.skipped) == 16
    assert len(big.changed) + len(big.skipped) == 14 * 31 and len(big.changed) >= 200
    assert set(big.changed.values()) == {"R"} and all(r.startswith("jour fermé") for r in big.skipped.values())
    # 13 on SQLite: the highest request id is read under the write lock (the ids are given).
    assert len(big_sql) == len(small_sql) <= 13, big_sql
    assert [s[:20] for s in big_sql] == [s[:20] for s in small_sql]
    # Booked again: every cell refused for its state, nothing written, the same reads.
    with pytest.raises(cells.BookingRefused):
        rectangle(kids[2:], march)


def test_the_rules_read_a_rectangle_and_scattered_cells_alike(desk, world):
    """The rules read a grid rectangle as the box around it and scattered cells through the
    VALUES join: the same picture either way, and never a cell that was not asked for."""
    from gandrange_desk.services.reservations import cells
    from gandrange_desk.services.reservations import rules as rules_mod
    from gandrange_desk.services.reservations.reads import cell_states

    kids, repas = world["kids"], world["repas"]
    march = [date(2026, 3, d) for d in (2, 3, 5, 6, 9, 10, 12, 13)]
    cells.book_cells(desk, [(k, repas, d) for k in kids for d in march[::3]])
    # A checkerboard: half the box, the booked cells between its squares not asked for.
    board = [(k, repas, d) for i, k in enumerate(kids) for j, d in enumerate(march) if (i + j) % 2 == 0]
    scattered = board + [(kids[0], repas, date(2026, 6, 30)), (kids[1], repas, date(2026, 12, 1))]
    assert rules_mod._box(board) is not None and rules_mod._box(scattered) is None
    stored = cell_states(desk, scattered)
    for asked in (board, scattered):
        with desk.read() as s:
            picture = rules_mod.Rules(s, desk).load(asked)
            assert set(picture.cells) == set(asked)
            assert {c: picture.state(c) for c in asked} == {c: stored[c] for c in asked}
    assert any(stored[c] for c in board) and not all(stored[c] for c in board)

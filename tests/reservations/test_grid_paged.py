"""The Réservations tab's first opening (issue 14): built, it reads nothing; shown, it paints
the month's first rows at once and reads the others after, between events, while the clerk
already reads, searches and clicks; a month chosen meanwhile shows only that month."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import event, select

from gandrange_desk.models import Activity, Booking
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.reservations.grid import BLANK, R, load_grid
from gandrange_desk.ui.reservations.grid_loader import GridLoader
from gandrange_desk.ui.reservations.grid_model import FIXED, STATE_ROLE, TOTAL_COL
from gandrange_desk.ui.reservations.tab import ReservationsTab
from tests.builders import load_example_settings, make_family, unit_id

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
NAMES = ["Adam", "Bauer", "Colin", "Dupont", "Étienne", "Fabre", "Garnier", "Hoffmann", "Idrissi",
         "Jacob", "Klein", "Lambert"]


@pytest.fixture
def world(desk, clock):
    clock.set(2026, 3, 2, 9, 0)
    load_example_settings(desk)
    kids = [make_family(desk, name, children=[{"first_name": "Léo", "class_name": "CE1"}]).children[0].id
            for name in NAMES]
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    # Every child booked on a different March day (the places per day then differ), the
    # last one also on an April day: a stale March row would show in April.
    days = [date(2026, 3, d) for d in (3, 5, 6, 9, 10, 12, 13, 16, 17, 19, 20, 23)]
    cells.book_cells(desk, [(kid, repas, day) for kid, day in zip(kids, days)])
    cells.book_cells(desk, [(kids[0], repas, date(2026, 3, 24)), (kids[-1], repas, date(2026, 4, 2))])
    return {"kids": kids, "repas": repas, "days": days}


@pytest.fixture
def paged(monkeypatch):
    """A screen of 3 rows and chunks of 4: the 12 children take a first page and 3 chunks."""
    monkeypatch.setattr(GridLoader, "_screen_rows", lambda self: 3)
    monkeypatch.setattr("gandrange_desk.ui.reservations.grid_loader.FIRST_ROWS", 3)
    monkeypatch.setattr("gandrange_desk.ui.reservations.grid_loader.CHUNK", 4)
    monkeypatch.setattr("gandrange_desk.ui.reservations.grid_loader.WHOLE_AT_ONCE", 0)


def make_tab(qtbot, desk, month=MARCH):
    tab = ReservationsTab(desk)
    qtbot.addWidget(tab)
    tab.resize(1400, 850)
    tab.month = month
    return tab


def whole(desk, month):
    """The month as `load_grid` reads it in one query (the tab's activity: the first one)."""
    with desk.read() as s:
        activity = s.execute(select(Activity.id).order_by(Activity.position, Activity.id)).scalars().first()
        return load_grid(s, Calendar.load(s), month, activity)


def shown_states(tab):
    g = tab.model.grid
    return {g.child_ids[row]: bytes(g.states[row]) for row in range(len(g.child_ids))}


def test_building_the_tab_reads_nothing(qtbot, desk, engine, world):
    statements, checkouts = [], []
    on_statement = lambda *args: statements.append(args[2])  # noqa: E731
    on_checkout = lambda *args: checkouts.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "checkout", on_checkout)
    try:
        tab = make_tab(qtbot, desk)
        assert statements == [] and checkouts == []
        assert tab.model.grid is None
        tab.show()  # the first showing reads the choices and the month
        assert statements and checkouts
        assert tab.model.rowCount() == len(NAMES)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "checkout", on_checkout)


def test_first_opening_shows_the_first_rows_then_all_rows(qtbot, desk, world, paged):
    tab = make_tab(qtbot, desk)
    tab.show()
    m, g = tab.model, tab.model.grid
    expected = whole(desk, MARCH)
    # Every child is there at once (names, count, scroll bar, search), the first rows read.
    assert m.rowCount() == len(NAMES) and g.child_ids == expected.child_ids
    assert [g.row_loaded(row) for row in range(len(NAMES))] == [True] * 3 + [False] * 9
    assert tab.loader.loading and "Chargement" in tab.counts.text()
    # The places per day are the whole month's from the start, never a count of the rows read.
    assert g.used == expected.used
    column = m.index_of(world["kids"][-1], world["repas"], world["days"][-1]).column()
    assert m.headerData(column, Qt.Horizontal).endswith("1/110")
    # A row not read yet says so: no state, its total "…", never a white cell.
    late = m.index(11, column)
    assert late.data(STATE_ROLE) is None and late.data() == "…"
    assert m.index(11, TOTAL_COL).data() == "…" and m.index(0, TOTAL_COL).data() == "2"
    tab.grid.viewport().repaint()  # the unread rows paint (pale, no tile)
    qtbot.waitUntil(lambda: not tab.loader.loading, timeout=5000)
    assert g.loaded is None
    assert shown_states(tab) == {cid: bytes(expected.states[row]) for row, cid in enumerate(expected.child_ids)}
    assert late.data(STATE_ROLE) == R and m.index(11, TOTAL_COL).data() == "1"
    assert "Chargement" not in tab.counts.text()


def test_search_while_loading_reads_the_rows_it_shows_first(qtbot, desk, world, paged):
    tab = make_tab(qtbot, desk)
    tab.show()
    tab.search.setText("lambert")  # the last child, not read yet
    m = tab.model
    index = m.index_of(world["kids"][-1], world["repas"], world["days"][-1])
    assert m.rowCount() == 1 and index.row() == 0 and index.data() == "…"
    tab.loader.timer.stop()
    tab.loader._step()  # one chunk: the row the search shows comes before the rows in between
    assert tab.model.grid.row_loaded(tab.model.visible[0]) and tab.loader.loading
    assert not tab.model.grid.row_loaded(tab.model.row_of[world["kids"][8]])
    assert index.data(STATE_ROLE) == R and index.data() == "R"
    qtbot.waitUntil(lambda: not tab.loader.loading, timeout=5000)


def test_a_click_on_a_row_read_late_works(qtbot, desk, world, paged):
    tab = make_tab(qtbot, desk)
    tab.show()
    kid, day = world["kids"][10], date(2026, 3, 13)
    g = tab.model.grid
    assert not g.row_loaded(tab.model.row_of[kid]) and tab.loader.loading
    index = tab.model.index_of(kid, world["repas"], day)
    used_before = g.used[index.column() - FIXED]
    tab.grid.scrollTo(index)
    rect = tab.grid.visualRect(index)
    qtbot.mouseClick(tab.grid.viewport(), Qt.LeftButton, pos=rect.center())
    assert tab.grid.currentIndex() == index
    qtbot.mouseDClick(tab.grid.viewport(), Qt.LeftButton, pos=rect.center())
    # The action read the rows left first: the cell was white, it is booked, counted once.
    assert not tab.loader.loading and g.loaded is None
    assert index.data(STATE_ROLE) == R
    with desk.read() as s:
        assert s.execute(select(Booking.state).where(Booking.child_id == kid, Booking.day == day)).scalar() == "R"
    assert g.used[index.column() - FIXED] == used_before + 1 == whole(desk, MARCH).used[index.column() - FIXED]
    assert shown_states(tab) == {cid: bytes(st) for cid, st in zip(whole(desk, MARCH).child_ids,
                                                                    whole(desk, MARCH).states)}


def test_a_rectangle_over_rows_not_read_yet_acts_on_their_real_states(qtbot, desk, world, paged):
    tab = make_tab(qtbot, desk)
    tab.show()
    m = tab.model
    # Rows 0-11 on the 13th: one child has it booked (not read yet), the others are white.
    first = m.index_of(world["kids"][0], world["repas"], date(2026, 3, 13))
    last = m.index(11, first.column())
    tab.select_cells(first, last)
    assert tab.loader.loading
    tab.run_action("book")
    assert not tab.loader.loading
    assert [m.index(r, first.column()).data(STATE_ROLE) for r in range(12)] == [R] * 12
    assert tab.message.text().startswith("11 cases réservées")


def test_changing_month_while_loading_shows_only_the_new_month(qtbot, desk, world, paged):
    tab = make_tab(qtbot, desk)
    tab.show()
    march = tab.model.grid
    assert tab.loader.loading and march.month == MARCH
    tab.set_month(APRIL)  # the March load stops here
    april = tab.model.grid
    assert april is not march and april.month == APRIL
    qtbot.waitUntil(lambda: not tab.loader.loading, timeout=5000)
    qtbot.wait(50)  # nothing of March arrives later
    assert tab.model.grid is april and march.pending  # March was never read further
    expected = whole(desk, APRIL)
    assert shown_states(tab) == {cid: bytes(st) for cid, st in zip(expected.child_ids, expected.states)}
    assert april.used == expected.used
    assert sum(st.count(R) for st in april.states) == 1  # the one April booking, no March row
    assert tab.model.index(0, TOTAL_COL).data() == "0"
    assert tab.model.index_of(world["kids"][0], world["repas"], date(2026, 4, 2)).data(STATE_ROLE) == BLANK


def test_another_tabs_change_while_loading_counts_its_place_once(qtbot, desk, world, paged):
    from gandrange_desk.services.changes import Changes

    tab = make_tab(qtbot, desk)
    tab.show()
    kid, day = world["kids"][9], date(2026, 3, 13)  # a row not read yet, a day one child holds
    assert not tab.model.grid.row_loaded(tab.model.row_of[kid])
    column = tab.model.index_of(kid, world["repas"], day).column()
    assert tab.model.headerData(column, Qt.Horizontal).endswith("1/110")
    cells.book_cells(desk, [(kid, world["repas"], day)])  # booked elsewhere (the family's file)
    tab.apply_changes(Changes(cells={(kid, world["repas"], day)}))
    assert not tab.loader.loading
    assert tab.model.index_of(kid, world["repas"], day).data(STATE_ROLE) == R
    assert tab.model.headerData(column, Qt.Horizontal).endswith("2/110")
    assert tab.model.grid.used == whole(desk, MARCH).used


def test_the_warm_up_reads_and_writes_nothing(desk, engine, world):
    from gandrange_desk.services.reservations import reads

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        reads.warm_grid(desk, MARCH)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements and all(sql.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN", "ROLLBACK", "SET"))
                              for sql in statements)


def test_rows_read_over_several_statements_are_the_whole_months(desk, world, monkeypatch):
    """More children than one statement's id list (1,024 in production; 4 here): the rows come
    in several statements — padded id lists on SQLite, one id array on PostgreSQL — and every
    child's cells are those of the one-query read, each in its own row."""
    from gandrange_desk.services.reservations import grid_paged, reads

    monkeypatch.setattr(grid_paged, "BUCKETS", (2, 4))
    monkeypatch.setattr(grid_paged, "_compiled", {})
    expected = whole(desk, MARCH)
    choices = reads.grid_choices(desk)
    frame = reads.month_grid_frame(desk, choices.calendar, MARCH, expected.activity_id, [])
    rows = list(range(len(frame.child_ids)))[::-1]  # not in the frame's order either
    states = reads.month_grid_rows(desk, frame, rows)
    got = {frame.child_ids[row]: bytes(states[row]) for row in rows}
    assert got == {cid: bytes(s) for cid, s in zip(expected.child_ids, expected.states)}
    assert any(R in s for s in got.values()) and len(got) == len(NAMES)


def test_a_small_month_is_read_whole_with_its_first_screen(qtbot, desk, world, monkeypatch):
    """Up to WHOLE_AT_ONCE children, the first read takes every row: the whole month is on
    screen at the first paint, in one read of the cells, with nothing left to load."""
    from gandrange_desk.services.reservations import reads

    monkeypatch.setattr(GridLoader, "_screen_rows", lambda self: 3)
    monkeypatch.setattr("gandrange_desk.ui.reservations.grid_loader.FIRST_ROWS", 3)
    monkeypatch.setattr("gandrange_desk.ui.reservations.grid_loader.WHOLE_AT_ONCE", len(NAMES))
    asked = []
    real = reads.month_grid_rows
    monkeypatch.setattr(reads, "month_grid_rows", lambda desk, data, rows: asked.append(len(rows)) or real(desk, data, rows))
    tab = make_tab(qtbot, desk)
    tab.show()
    expected = whole(desk, MARCH)
    assert asked == [len(NAMES)]
    assert not tab.loader.loading and tab.model.grid.loaded is None
    assert "Chargement" not in tab.counts.text()
    assert shown_states(tab) == {cid: bytes(expected.states[row]) for row, cid in enumerate(expected.child_ids)}

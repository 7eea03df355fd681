"""The Réservations tab: clicks, keyboard, rectangle, period dialog; cell state and database."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from sqlalchemy import event, func, select

from gandrange_desk.models import Booking, OutboxMessage, Request, Unit
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations.grid import AF, BLANK, DA, DR, R, load_grid
from gandrange_desk.ui.reservations.grid_model import FIXED, STATE_ROLE, GridModel
from gandrange_desk.ui.reservations.tab import ReservationsTab
from tests.builders import load_example_settings, make_family, unit_id

MARCH = date(2026, 3, 1)


@pytest.fixture
def world(desk, clock):
    clock.set(2026, 3, 2, 9, 0)
    load_example_settings(desk)
    kids = []
    for name, first in (("Martin", "Léa"), ("Bernard", "Hugo"), ("Dubois", "Inès")):
        family = make_family(desk, name, children=[{"first_name": first, "class_name": "CE2",
                                                    "pai": name == "Dubois"}])
        kids.append(family.children[0].id)
    return {"kids": kids, "repas": unit_id(desk, "PERISCOLAIRE", "Repas"),
            "matin": unit_id(desk, "PERISCOLAIRE", "Accueil matin"),
            "soir": unit_id(desk, "PERISCOLAIRE", "Accueil soir")}


@pytest.fixture
def tab(qtbot, desk, world):
    widget = ReservationsTab(desk)
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    widget.set_month(MARCH)
    return widget


def db_state(desk, child, unit, day):
    with desk.read() as s:
        return s.execute(select(Booking.state).where(
            Booking.child_id == child, Booking.unit_id == unit, Booking.day == day)).scalar()


def click(qtbot, tab, index):
    tab.grid.scrollTo(index)
    rect = tab.grid.visualRect(index)
    qtbot.mouseClick(tab.grid.viewport(), Qt.LeftButton, pos=rect.center())


def act(qtbot, tab, index):
    """A double-click: a plain click only chooses the cell."""
    click(qtbot, tab, index)
    qtbot.mouseDClick(tab.grid.viewport(), Qt.LeftButton, pos=tab.grid.visualRect(index).center())


def test_model_passes_qtmodeltester(qtmodeltester, desk, world):
    cells.book_cells(desk, [(world["kids"][0], world["repas"], date(2026, 3, 13))])
    with desk.read() as s:
        data = load_grid(s, Calendar.load(s), MARCH, _activity(s, world["repas"]))
    model = GridModel(data)
    model.history_provider = lambda cell: "historique"
    qtmodeltester.check(model)


def _activity(s, unit):
    return s.get(Unit, unit).activity_id


def test_rows_names_marks_and_closed_columns(tab, world):
    m = tab.model
    assert m.rowCount() == 3
    assert [m.index(r, 0).data() for r in range(3)] == ["BERNARD Hugo", "DUBOIS Inès", "MARTIN Léa"]
    assert m.index(1, 2).data() == "PAI"
    closed = m.index_of(world["kids"][0], world["repas"], date(2026, 3, 11))  # a Wednesday
    assert closed.data(Qt.ToolTipRole).endswith("Fermé : Pas d'accueil ce jour-là pour cette activité")
    assert not (m.flags(closed) & Qt.ItemIsSelectable)
    # Never-open days are hidden unless « Tous les jours » is ticked.
    assert tab.grid.isColumnHidden(closed.column())
    tab.weekends.setChecked(True)
    assert not tab.grid.isColumnHidden(closed.column())


def test_the_health_column_holds_its_widest_mark(tab):
    """« Allergie » in bold was cut to « Allergi » in a 40-pixel column."""
    from PySide6.QtGui import QFont, QFontMetrics

    bold = QFont(tab.names.font())
    bold.setBold(True)
    needed = QFontMetrics(bold).horizontalAdvance("Allergie")
    assert tab.names.columnWidth(2) >= needed + 4


def test_click_books_then_cancel_excused(qtbot, tab, desk, world):
    kid, day = world["kids"][2], date(2026, 3, 13)
    index = tab.model.index_of(kid, world["repas"], day)
    header_before = tab.model.headerData(index.column(), Qt.Horizontal)
    assert header_before.endswith("0/110")
    click(qtbot, tab, index)  # a stray click books nothing
    assert index.data(STATE_ROLE) == BLANK and db_state(desk, kid, world["repas"], day) is None
    assert tab.grid.currentIndex() == index
    act(qtbot, tab, index)
    assert index.data() == "R" and index.data(STATE_ROLE) == R
    assert db_state(desk, kid, world["repas"], day) == "R"
    assert tab.model.headerData(index.column(), Qt.Horizontal).endswith("1/110")
    assert tab.model.index(index.row(), 3).data() == "1"
    assert tab.message.text() == "1 case réservée. (Ctrl+Z pour annuler)"
    # Space on the R cell asks excusée / facturée; before the deadline excusée is proposed.
    seen = []
    tab.prompt_cancel = lambda n, proposed, late: seen.append((n, proposed, late)) or ("excused", "")
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    assert seen == [(1, "excused", 0)]
    assert index.data(STATE_ROLE) == BLANK and db_state(desk, kid, world["repas"], day) is None
    with desk.read() as s:
        kinds = [(r.kind, r.billing) for r in s.execute(select(Request).order_by(Request.id)).scalars()]
    assert kinds == [("booking", None), ("cancellation", "excused")]


def test_closed_cell_click_says_why_and_writes_nothing(qtbot, tab, desk, world):
    tab.set_month(date(2026, 4, 1))
    index = tab.model.index_of(world["kids"][0], world["repas"], date(2026, 4, 3))
    click(qtbot, tab, index)
    assert tab.message.text() == "Jour fermé : Jour férié : Vendredi saint."
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Request)).scalar() == 0


def test_family_mode_then_inline_decision(qtbot, tab, desk, world):
    kid, day = world["kids"][0], date(2026, 3, 16)
    index = tab.model.index_of(kid, world["repas"], day)
    tab.family_mode.setChecked(True)
    act(qtbot, tab, index)
    assert index.data() == "DR" and db_state(desk, kid, world["repas"], day) == "DR"
    tab.family_mode.setChecked(False)
    tab.prompt_decision = lambda state: "accept"
    act(qtbot, tab, index)
    assert index.data() == "R"
    with desk.read() as s:
        mail = s.execute(select(OutboxMessage)).scalar_one()
    assert "1 réservation acceptée le : 16/03" in mail.body_text
    # The family asks to cancel, the office refuses with a reason.
    tab.family_mode.setChecked(True)
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    assert index.data() == "DA"
    tab.family_mode.setChecked(False)
    tab.prompt_decision = lambda state: "refuse"
    tab.prompt_reason = lambda title, prompt: "Délai dépassé"
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    assert index.data() == "R" and db_state(desk, kid, world["repas"], day) == "R"
    assert "Délai dépassé" in tab.model.index_of(kid, world["repas"], day).data(Qt.ToolTipRole)


def test_rectangle_books_all_open_cells_with_one_data_changed(qtbot, tab, desk, world):
    tab.weekends.setChecked(True)
    m = tab.model
    first = m.index(0, FIXED)  # 1 March (Sunday)
    last = m.index(2, m.columnCount() - 1)  # 31 March
    signals = []
    m.dataChanged.connect(lambda a, b, roles: signals.append((a.row(), a.column(), b.row(), b.column())))
    tab.select_cells(first, last)
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    with desk.read() as s:
        n = s.execute(select(func.count()).select_from(Booking)).scalar()
    # March 2026, zone B: 18 périscolaire days × 3 units × 3 children, nothing closed booked.
    assert n == 18 * 3 * 3
    assert len(signals) == 1
    assert tab.message.text() == "162 cases réservées. (Ctrl+Z pour annuler)"
    assert all(m.index(r, 3).data() == "54" for r in range(3))


def test_cancel_rectangle_billed_late_needs_no_reason(qtbot, tab, desk, world, clock):
    day = date(2026, 3, 5)
    cs = [(k, world["repas"], day) for k in world["kids"]]
    cells.book_cells(desk, cs)
    tab.reload()
    clock.set(2026, 3, 4, 12, 0)  # after J-2 10:00: facturée proposed
    m = tab.model
    tab.select_cells(m.index_of(world["kids"][1], world["repas"], day),
                     m.index_of(world["kids"][0], world["repas"], day))
    tab.prompt_cancel = lambda n, proposed, late: (proposed, "")
    tab.run_action("cancel")
    assert [m.index_of(k, world["repas"], day).data(STATE_ROLE) for k in world["kids"]] == [AF] * 3
    assert {db_state(desk, k, world["repas"], day) for k in world["kids"]} == {"AF"}
    # Excusée against the rule without a reason: refused, nothing changes.
    other = date(2026, 3, 6)
    cells.book_cells(desk, [(world["kids"][0], world["repas"], other)])
    tab.reload()
    tab.grid.setCurrentIndex(m.index_of(world["kids"][0], world["repas"], other))
    tab.prompt_cancel = lambda n, proposed, late: ("excused", "")
    tab.run_action("cancel")
    assert "Motif obligatoire" in tab.message.text()
    assert db_state(desk, world["kids"][0], world["repas"], other) == "R"


def test_keyboard_moves_like_a_spreadsheet(qtbot, tab, world):
    m = tab.model
    start = m.index_of(world["kids"][0], world["repas"], date(2026, 3, 2))
    tab.grid.setFocus()
    tab.grid.setCurrentIndex(start)
    qtbot.keyClick(tab.grid, Qt.Key_Right)
    assert tab.grid.currentIndex().data(Qt.UserRole + 3)[1] == world["soir"]
    qtbot.keyClick(tab.grid, Qt.Key_Up)
    qtbot.keyClick(tab.grid, Qt.Key_Return)
    assert tab.grid.currentIndex().row() == start.row()
    qtbot.keyClick(tab.grid, Qt.Key_Right, Qt.ShiftModifier)
    assert len(tab.grid.selectionModel().selectedIndexes()) == 2


def test_capacity_asks_before_going_over(qtbot, tab, desk, world):
    with desk.unit_of_work() as s:
        s.get(Unit, world["matin"]).capacity = 1
    day = date(2026, 3, 13)
    cells.book_cells(desk, [(world["kids"][0], world["matin"], day)])
    tab.reload()
    index = tab.model.index_of(world["kids"][1], world["matin"], day)
    asked = []
    tab.confirm = lambda text: asked.append(text) or False
    act(qtbot, tab, index)
    assert "Capacité dépassée : Accueil matin le 13/03 (2/1)" in asked[0]
    assert index.data(STATE_ROLE) == BLANK and "Capacité dépassée" in tab.message.text()
    tab.confirm = lambda text: True
    act(qtbot, tab, index)
    assert index.data(STATE_ROLE) == R
    assert tab.model.headerData(index.column(), Qt.Horizontal).endswith("2/1")


def test_filters_month_search_and_class(qtbot, tab, world):
    tab.search.setText("ines")
    assert tab.model.rowCount() == 1 and tab.model.index(0, 0).data() == "DUBOIS Inès"
    tab.search.clear()
    qtbot.mouseClick(tab.next_button, Qt.LeftButton)
    assert tab.month == date(2026, 4, 1) and tab.counts.text() == "Avril 2026 — 3 enfants."
    qtbot.mouseClick(tab.prev_button, Qt.LeftButton)
    assert tab.month == MARCH
    tab.set_units([world["repas"]])
    assert tab.model.columnCount() == FIXED + 31


def test_period_dialog_books_and_updates_grid(qtbot, tab, desk, world):
    kid = world["kids"][0]
    dialog = tab.make_period_dialog([(kid, "MARTIN Léa")], world["repas"], date(2026, 3, 31))
    qtbot.addWidget(dialog)
    dialog.first.setDate(dialog.first.date().fromString("2026-03-16", "yyyy-MM-dd"))
    dialog.last.setDate(dialog.first.date().fromString("2026-04-10", "yyyy-MM-dd"))
    for i, box in enumerate(dialog.day_checks):
        box.setChecked(i in (0, 3))
    assert dialog.total.text() == "Total : 7"
    dialog.week_type.setCurrentIndex(2)  # Semaines impaires: weeks 13 and 15
    assert dialog.total.text() == "Total : 3"
    assert "jour fermé ignoré" in dialog.notes.text()  # Lundi de Pâques 6/04, week 15
    dialog.week_type.setCurrentIndex(0)
    qtbot.mouseClick(dialog.book_button, Qt.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    tab.model.apply_changes(dialog.result_cells.changed)
    assert tab.model.index_of(kid, world["repas"], date(2026, 3, 19)).data() == "R"
    with desk.read() as s:
        days = s.execute(select(Booking.day).order_by(Booking.day)).scalars().all()
    assert days == [date(2026, 3, 16), date(2026, 3, 19), date(2026, 3, 23), date(2026, 3, 26),
                    date(2026, 3, 30), date(2026, 4, 2), date(2026, 4, 9)]


def test_scrolling_never_queries(qtbot, tab, engine, world):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        tab.grid.scrollToBottom()
        tab.grid.horizontalScrollBar().setValue(tab.grid.horizontalScrollBar().maximum())
        tab.grid.viewport().repaint()
        m = tab.model
        for r in range(m.rowCount()):
            for c in range(m.columnCount()):
                m.index(r, c).data()
                m.index(r, c).data(STATE_ROLE)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []


def test_ctrl_z_takes_back_the_last_booking_not_what_was_announced(qtbot, tab, desk, world):
    kid, day = world["kids"][2], date(2026, 3, 13)
    index = tab.model.index_of(kid, world["repas"], day)
    act(qtbot, tab, index)
    assert db_state(desk, kid, world["repas"], day) == "R"
    qtbot.keyClick(tab.grid, Qt.Key_Z, Qt.ControlModifier)
    assert index.data(STATE_ROLE) == BLANK and db_state(desk, kid, world["repas"], day) is None
    assert tab.message.text() == "1 case remise comme avant."
    qtbot.keyClick(tab.grid, Qt.Key_Z, Qt.ControlModifier)
    assert tab.message.text() == "Rien à annuler."
    with desk.read() as s:
        last = s.execute(select(Request).order_by(Request.id.desc())).scalars().first()
    assert (last.kind, last.billing) == ("cancellation", "excused")  # never billed
    # A decision was e-mailed (or is about to be): Ctrl+Z says so and changes nothing.
    tab.family_mode.setChecked(True)
    act(qtbot, tab, index)
    tab.family_mode.setChecked(False)
    tab.prompt_decision = lambda state: "accept"
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    qtbot.keyClick(tab.grid, Qt.Key_Z, Qt.ControlModifier)
    assert "Impossible d'annuler une décision annoncée à la famille" in tab.message.text()
    assert index.data(STATE_ROLE) == R


def test_one_inline_decision_is_held_and_leaves_when_the_clerk_moves_on(qtbot, tab, desk, world):
    kid = world["kids"][0]
    cs = [(kid, world["repas"], d) for d in (date(2026, 3, 16), date(2026, 3, 17))]
    cells.book_cells(desk, cs, for_family=True)
    tab.reload()
    tab.prompt_decision = lambda state: "accept"
    for cell in cs:
        tab.grid.setCurrentIndex(tab.model.index_of(*cell))
        qtbot.keyClick(tab.grid, Qt.Key_Space)
    with desk.read() as s:
        [mail] = s.execute(select(OutboxMessage)).scalars().all()
    assert "2 réservations acceptées les : 16/03, 17/03" in mail.body_text
    assert mail.next_attempt_at > desk.now()
    tab.shift_month(1)  # the clerk moves on: the round is over
    with desk.read() as s:
        [mail] = s.execute(select(OutboxMessage)).scalars().all()
    assert mail.next_attempt_at == desk.now() and mail.announce_key is None


def test_context_menu_greys_what_does_not_apply(qtbot, tab, desk, world):
    tab.grid.setCurrentIndex(tab.model.index_of(world["kids"][0], world["repas"], date(2026, 3, 13)))
    menu = tab.context_menu()
    seen = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert seen["Réserver (R)"] and not seen["Annuler la réservation…"]
    assert not seen["Accepter la demande"] and not seen["Annuler la dernière saisie"]


def test_foot_counts_the_children_shown_and_a_family_from_its_file(qtbot, tab, world):
    assert tab.counts.text() == "Mars 2026 — 3 enfants."
    tab.search.setText("ines")
    assert tab.counts.text() == "Mars 2026 — 1 enfant affiché sur 3."
    tab.show_family("Famille Martin (F-0001)", [world["kids"][0]])
    assert tab.search.text() == "" and [tab.model.index(r, 0).data() for r in range(tab.model.rowCount())] == \
        ["MARTIN Léa"]
    assert tab.family_chip.isVisible() and tab.counts.text() == "Mars 2026 — 1 enfant affiché sur 3."
    qtbot.mouseClick(tab.family_chip, Qt.LeftButton)
    assert tab.model.rowCount() == 3 and not tab.family_chip.isVisible()


def test_today_and_go_to_a_date(qtbot, tab, desk, world):
    tab.set_month(date(2026, 5, 1))
    qtbot.mouseClick(tab.today_button, Qt.LeftButton)  # the desk's clock: Monday 2 March
    current = tab.grid.currentIndex()
    assert tab.month == MARCH and current.data(Qt.UserRole + 3)[2] == date(2026, 3, 2)
    assert tab.grid.horizontalHeader().today == date(2026, 3, 2)
    tab.go_to(date(2026, 3, 20))
    assert tab.grid.currentIndex().data(Qt.UserRole + 3)[2] == date(2026, 3, 20)
    tab.go_to(date(2026, 3, 21))  # a Saturday
    assert "pas d'accueil ce jour-là" in tab.message.text()


def test_a_click_repaints_its_cell_not_the_grid(qtbot, tab, desk, world):
    """What Qt does after a click must not grow with the rows: one dataChanged on the clicked
    row (month total to the cell), no reset, no layout change, no header re-measure."""
    m = tab.model
    kid, day = world["kids"][1], date(2026, 3, 17)
    index = m.index_of(kid, world["repas"], day)
    click(qtbot, tab, index)
    seen = []
    m.dataChanged.connect(lambda a, b, roles: seen.append(("data", a.row(), a.column(), b.row(), b.column())))
    for name in ("layoutChanged", "modelReset", "headerDataChanged", "rowsInserted", "columnsInserted"):
        getattr(m, name).connect(lambda *args, name=name: seen.append((name,)))
    places = []
    m.placesChanged.connect(lambda first, last: places.append((first, last)))
    qtbot.keyClick(tab.grid, Qt.Key_Space)
    assert index.data() == "R" and db_state(desk, kid, world["repas"], day) == "R"
    assert seen == [("data", index.row(), 3, index.row(), index.column())]
    assert places == [(index.column(), index.column())]
    assert tab.grid.horizontalHeader().sizeHint().height() == tab.grid.horizontalHeader().height()
    # The same change coming back from another tab's broadcast is already there: nothing again.
    seen.clear()
    tab.apply_changes(Changes(cells={(kid, world["repas"], day)}))
    assert seen == [] and index.data() == "R"


def test_a_name_too_long_for_its_column_ends_in_an_ellipsis_inside_it(qtbot, desk, world):
    """The names are painted from laid-out texts kept between paints: a name wider than the
    « Enfant » column is cut with « … » in it, and never runs into the « Classe » column."""
    from PySide6.QtGui import QColor

    make_family(desk, "Wolfeschlegelsteinhausenbergerdorff-Martinez",
                children=[{"first_name": "Maximilien-Alexandre", "class_name": "CE2"}])
    widget = ReservationsTab(desk)
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    widget.set_month(MARCH)
    names = widget.names
    image = names.viewport().grab().toImage()
    texts = names._texts
    assert texts is not None  # kept from that paint
    long = "WOLFESCHLEGELSTEINHAUSENBERGERDORFF-MARTINEZ Maximilien-Alexandre"
    row = [widget.model.index(r, 0).data() for r in range(widget.model.rowCount())].index(long)
    width = names.columnWidth(0) - 6
    static = texts[0]._entry(long, width)[0]
    assert static.text().endswith("…") and texts[0].metrics.horizontalAdvance(static.text()) <= width
    y = names.rowViewportPosition(row) + names.rowHeight(row) // 2
    class_x = names.columnViewportPosition(1)
    white = QColor("#FFFFFF").rgb()
    assert all(image.pixel(x, y) == white for x in range(class_x + 1, class_x + 8))
    # The short names are drawn whole.
    assert texts[0]._entry("BERNARD Hugo", width)[0].text() == "BERNARD Hugo"

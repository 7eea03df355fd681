"""The Pointage tab driven as at the door: taps on big rows, a walk-in, the rest absent, two devices."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from gandrange_desk.errors import DeskError
from gandrange_desk.models import Attendance
from gandrange_desk.services.attendance import records
from gandrange_desk.services.context import Actor
from gandrange_desk.ui.attendance.model import ABSENT, BY, CLASS, CLEAR, HEALTH, LATE, PRESENT, ROW_HEIGHT
from tests.builders import load_example_settings, make_booking, make_family, unit_id

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def no_popups(monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.Ok)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: QMessageBox.Ok)


@pytest.fixture
def door(qtbot, desk, clock):
    load_example_settings(desk)
    clock.set(2026, 11, 26, 17, 5)  # the evening: the tab opens on Accueil soir
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    muller = make_family(desk, "Muller", children=[{"first_name": "Léa", "allergies": "Arachide"},
                                                   {"first_name": "Hugo", "class_name": "CP"}])
    weber = make_family(desk, "Weber", children=[{"first_name": "Tom", "class_name": "CM1"}])
    lea, hugo = [c.id for c in muller.children]
    for child in (lea, hugo):
        make_booking(desk, child, soir, TODAY)
    from gandrange_desk.ui.attendance.tab import AttendanceTab

    agent = desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    tab = AttendanceTab(agent)
    qtbot.addWidget(tab)
    tab.resize(1366, 768)
    tab.show()
    qtbot.waitExposed(tab)
    return {"tab": tab, "desk": desk, "soir": soir, "lea": lea, "hugo": hugo, "tom": weber.children[0].id}


def _tap(qtbot, tab, name: str, column: int) -> None:
    row = next(i for i, r in enumerate(tab.model.rows) if r.name == name)
    index = tab.model.index(row, column)
    tab.view.scrollTo(index)
    qtbot.mouseClick(tab.view.viewport(), Qt.LeftButton, pos=tab.view.visualRect(index).center())


def _marks(desk) -> dict:
    with desk.read() as s:
        return {(a.child_id): (a.presence, a.late_time) for a in s.execute(select(Attendance)).scalars()}


def test_one_tap_per_child(qtbot, door):
    tab, desk = door["tab"], door["desk"]
    assert tab.unit_combo.currentText() == "Périscolaire — Accueil soir"
    assert [r.name for r in tab.model.rows] == ["MULLER Hugo", "MULLER Léa"]
    assert tab.view.verticalHeader().defaultSectionSize() == ROW_HEIGHT
    assert tab.model.data(tab.model.index(1, HEALTH)) == "Allergie : Arachide"
    _tap(qtbot, tab, "MULLER Léa", PRESENT)
    assert _marks(desk) == {door["lea"]: ("present", "")}
    assert tab.summary.text() == "2 enfants attendus : 1 présent, 0 absent, 0 absent excusé, 1 non pointé."
    assert tab.message.text().endswith("Léa Muller : « Présent ».")
    # The late time of the evening, then a wrong tap taken back.
    tab.ask_late_time = lambda row: "18:40"
    _tap(qtbot, tab, "MULLER Léa", LATE)
    assert _marks(desk)[door["lea"]] == ("present", "18:40")
    assert tab.model.data(tab.model.index(1, LATE)) == "18:40"
    _tap(qtbot, tab, "MULLER Hugo", ABSENT)
    _tap(qtbot, tab, "MULLER Hugo", CLEAR)
    assert door["hugo"] not in _marks(desk)
    # A late time needs a child who is there: the button of an unmarked child does nothing.
    tab.ask_late_time = lambda row: pytest.fail("no late time for an absent child")
    _tap(qtbot, tab, "MULLER Hugo", LATE)


def test_keyboard_at_a_pc(qtbot, door):
    tab, desk = door["tab"], door["desk"]
    tab.view.setFocus()
    tab.view.setCurrentIndex(tab.model.index(0, 0))
    qtbot.keyClick(tab.view, Qt.Key_E)
    assert _marks(desk) == {door["hugo"]: ("excused", "")}
    qtbot.keyClick(tab.view, Qt.Key_Delete)
    assert _marks(desk) == {}


def test_a_walk_in_and_the_rest_absent(qtbot, door):
    tab, desk = door["tab"], door["desk"]
    qtbot.keyClicks(tab.walk_in, "tom")
    assert tab.candidate_view.isVisible() and tab.candidates.rowCount() == 1
    index = tab.candidates.index(0, 0)
    qtbot.mouseClick(tab.candidate_view.viewport(), Qt.LeftButton, pos=tab.candidate_view.visualRect(index).center())
    assert _marks(desk) == {door["tom"]: ("walk_in", "")}
    assert tab.walk_in.text() == "" and [r.name for r in tab.model.rows][-1] == "WEBER Tom"
    assert tab.model.data(tab.model.index(2, PRESENT)) == "Sans résa."
    tab.confirm = lambda text: text == "Marquer absents les 2 enfants non pointés de Périscolaire — Accueil soir ?"
    qtbot.mouseClick(tab.rest_button, Qt.LeftButton)
    assert {k: v[0] for k, v in _marks(desk).items()} == {door["tom"]: "walk_in", door["lea"]: "absent",
                                                        door["hugo"]: "absent"}
    assert tab.summary.text() == ("2 enfants attendus : 0 présent, 2 absents, 0 absent excusé, 0 non pointé ; "
                                  "1 présent sans réservation.")


def test_another_device_marked_first(qtbot, door):
    tab, desk = door["tab"], door["desk"]
    office = desk.as_actor(Actor("nbecker", "Nathalie Becker", "responsable"))
    records.record(office, door["lea"], door["soir"], TODAY, "absent")
    _tap(qtbot, tab, "MULLER Léa", PRESENT)  # the screen still showed Léa unmarked
    assert "a déjà été pointé « Absent » par nbecker à 17:05" in tab.message.text()
    assert _marks(desk) == {door["lea"]: ("absent", "")}
    assert tab.model.rows[1].presence == "absent"  # the sheet reloaded


def test_a_tablet(qtbot, door):
    tab = door["tab"]
    tab.resize(1024, 768)
    qtbot.wait(10)
    assert tab.model.compact and tab.view.isColumnHidden(CLASS) and tab.view.isColumnHidden(BY)
    tab.resize(800, 1280)
    qtbot.wait(10)
    assert tab.width() <= 820  # fits a tablet held upright
    assert tab.second_row.indexOf(tab.unit_combo) >= 0
    _tap(qtbot, tab, "MULLER Léa", PRESENT)
    assert _marks(door["desk"]) == {door["lea"]: ("present", "")}
    tab.resize(1366, 768)
    qtbot.wait(10)
    assert not tab.model.compact and tab.choice_row.indexOf(tab.unit_combo) >= 0


def test_a_closed_day_and_a_day_to_come(qtbot, door):
    tab = door["tab"]
    tab.set_day(date(2026, 11, 27))
    assert tab.sheet is not None and tab.sheet.future and not tab.walk_in.isEnabled()
    assert "Jour à venir" in tab.message.text()
    tab.set_day(date(2026, 11, 28))  # a Saturday: nothing open
    assert tab.unit_combo.count() == 0 and tab.summary.text() == "Aucun accueil le samedi 28 novembre 2026."


def test_the_rules_dialog(qtbot, desk, door):
    from gandrange_desk.services.attendance import settings
    from gandrange_desk.ui.attendance.settings_dialog import AttendanceSettingsDialog

    supervisor = desk.as_actor(Actor("nbecker", "Nathalie Becker", "responsable"))
    dialog = AttendanceSettingsDialog(supervisor)
    qtbot.addWidget(dialog)
    dialog.no_shows.setChecked(False)
    dialog.percent.setValue(25)
    dialog.fixed.setText("1,50")
    row = next(i for i, r in enumerate(dialog.units.rows) if r[0].unit_id == door["soir"])
    dialog.units.setData(dialog.units.index(row, 1), "1 h 30")
    dialog.save()
    saved = settings.current(desk)
    assert (saved.rules.bill_no_shows, saved.rules.walk_in_surcharge_percent, saved.rules.walk_in_surcharge_cents) == (
        False, 25, 150)
    assert saved.unit(door["soir"]).caf_minutes == 90
    assert dialog.result_text.startswith("Réglages enregistrés : facturer les absences non excusées")
    # An agent reads them, cannot change them.
    agent_dialog = AttendanceSettingsDialog(desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent")))
    qtbot.addWidget(agent_dialog)
    assert not agent_dialog.no_shows.isEnabled() and not agent_dialog.percent.isEnabled()
    bad = AttendanceSettingsDialog(supervisor)
    qtbot.addWidget(bad)
    bad.units.setData(bad.units.index(row, 1), "beaucoup")
    with pytest.raises(DeskError) as exc:
        bad.values()
    assert "Périscolaire — Accueil soir : durée illisible « beaucoup »" in str(exc.value)
